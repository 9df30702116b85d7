// Who is connected to this node, over which transport; disconnect one.
import { api } from '../api.js';
import { ask, h, table, toast, when } from '../dom.js';

export async function render(root) {
  const body = h('div');
  const note = h('p', { class: 'muted' });
  root.append(h('h1', {}, 'Sessions'), note, body);
  const load = async () => {
    const { node, clustered, total, items } = await api('GET', '/sessions');
    note.textContent = `XMPP streams on node ${node}${clustered ? ' (other nodes list their own)' : ''}: ${total}${total > items.length ? ` (the first ${items.length} shown)` : ''}.`;
    body.replaceChildren(items.length === 0 ? h('p', { class: 'muted' }, 'No one is connected.') : table(
      ['JID', 'App', 'Transport', 'State', 'Address', 'Last activity', ''],
      items.map((s) => h('tr', { dataset: { session: s.id, jid: s.jid ?? '' } },
        h('td', { class: 'mono' }, s.jid ?? `user ${s.user_id}`),
        h('td', {}, s.app_id),
        h('td', {}, s.transport, s.secure ? ' · encrypted' : ''),
        h('td', {}, h('span', { class: `pill ${s.available ? 'on' : ''}` }, s.detached ? 'detached' : s.available ? 'available' : s.state)),
        h('td', { class: 'mono' }, s.remote_address),
        h('td', {}, when(s.last_activity)),
        h('td', {}, h('button', {
          class: 'small danger',
          onclick: async () => {
            if (!(await ask(`Disconnect ${s.jid ?? 'this session'}? The client gets a policy-violation stream error.`, { ok: 'Disconnect' }))) return;
            await api('DELETE', `/sessions/${s.id}`);
            toast('Disconnected');
            await load();
          },
        }, 'Disconnect'))))));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  return () => clearInterval(timer);
}
