// Who is connected, to which node of the cluster, over which transport; disconnect one.
import { api } from '../api.js';
import { ask, h, table, toast, when } from '../dom.js';

export async function render(root) {
  const body = h('div');
  const note = h('p', { class: 'muted' });
  root.append(h('h1', {}, 'Sessions'), note, body);
  const load = async () => {
    const { node, clustered, nodes, missing, total, items } = await api('GET', '/sessions');
    const where = clustered ? `on ${nodes.length} node${nodes.length === 1 ? '' : 's'} (this one: ${node})` : `on node ${node}`;
    const cut = total > items.length ? ` (${items.length} shown: at most 500 a node)` : '';
    const silent = missing.length > 0 ? ` Not answering: ${missing.join(', ')}.` : '';
    note.textContent = `XMPP streams ${where}: ${total}${cut}.${silent}`;
    body.replaceChildren(items.length === 0 ? h('p', { class: 'muted' }, 'No one is connected.') : table(
      ['JID', 'App', 'Node', 'Transport', 'State', 'Address', 'Last activity', ''],
      items.map((s) => h('tr', { dataset: { session: s.id, jid: s.jid ?? '', node: s.node } },
        h('td', { class: 'mono' }, s.jid ?? `user ${s.user_id}`),
        h('td', {}, s.app_id),
        h('td', { class: 'mono' }, s.node),
        h('td', {}, s.transport, s.secure ? ' · encrypted' : ''),
        h('td', {}, h('span', { class: `pill ${s.available ? 'on' : ''}` }, s.detached ? 'detached' : s.available ? 'available' : s.state)),
        h('td', { class: 'mono' }, s.remote_address),
        h('td', {}, when(s.last_activity)),
        h('td', {}, h('button', {
          class: 'small danger',
          onclick: async () => {
            if (!(await ask(`Disconnect ${s.jid ?? 'this session'}? The client gets a policy-violation stream error.`, { ok: 'Disconnect' }))) return;
            await api('DELETE', `/sessions/${s.id}?node=${encodeURIComponent(s.node)}`);
            toast('Disconnected');
            await load();
          },
        }, 'Disconnect'))))));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  return () => clearInterval(timer);
}
