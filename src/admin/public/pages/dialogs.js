// Dialogs of one application: list with filters, open one to read its history and attachments,
// delete it for everyone.
import { api } from '../api.js';
import { ask, h, table, toast, when } from '../dom.js';
import { appPicker } from './app-picker.js';

const TYPES = { 1: 'public group', 2: 'group', 3: 'private' };
const BLOB_UID = /^[0-9a-f]{32}$/;

export async function render(root, { args }) {
  if (args.length === 2) return openDialog(root, Number(args[0]), args[1]);
  let appId;
  const picker = await appPicker((id) => { appId = id; load(); });
  appId = picker.appId;
  if (appId === null) return root.append(h('h1', {}, 'Dialogs'), h('p', { class: 'muted' }, 'Create an application first.'));

  const type = h('select', { name: 'type' }, h('option', { value: '' }, 'any'), Object.entries(TYPES).map(([v, t]) => h('option', { value: v }, t)));
  const user = h('input', { name: 'user', inputmode: 'numeric', pattern: '[0-9]*', maxlength: 15, placeholder: 'user id' });
  const name = h('input', { name: 'name', maxlength: 100 });
  const list = h('div');
  const more = h('button', { class: 'secondary', hidden: true, onclick: () => load(more.dataset.after) }, 'More');
  const filters = h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); load(); } },
    picker.element, h('label', {}, 'Type', type), h('label', {}, 'Occupant', user), h('label', {}, 'Name', name), h('button', { type: 'submit' }, 'Filter'));
  root.append(h('h1', {}, 'Dialogs'), filters, list, more);

  let rows = [];
  async function load(after = '') {
    const params = new URLSearchParams({ type: type.value, user: user.value.trim(), name: name.value.trim(), after });
    const page = await api('GET', `/apps/${appId}/dialogs?${params}`);
    rows = after ? rows.concat(page.items) : page.items;
    more.hidden = !page.next;
    more.dataset.after = page.next ?? '';
    list.replaceChildren(rows.length === 0 ? h('p', { class: 'muted' }, 'No dialogs match.') : table(['Name', 'Type', 'Occupants', 'Last message', 'Updated'], rows.map((d) =>
      h('tr', { class: 'clickable', dataset: { dialog: d.id }, onclick: () => { location.hash = `#/dialogs/${appId}/${d.id}`; } },
        h('td', {}, d.name || h('span', { class: 'muted' }, d.id)), h('td', {}, TYPES[d.type]), h('td', { class: 'mono' }, d.occupant_ids.join(', ')),
        h('td', {}, d.last_message ?? ''), h('td', {}, when(d.updated_at))))));
  }
  await load();
}

/** A stored file opens through the console (private ones too); anything else by its own URL. */
function attachmentView(appId, a) {
  const fields = Object.entries(a).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k}: ${v}`).join(' · ');
  const blob = (v) => `/admin/api/apps/${appId}/blobs/${v}`;
  const uid = [a.uid, a.id].map((v) => String(v ?? '')).find((v) => BLOB_UID.test(v));
  const url = typeof a.url === 'string' && /^https?:\/\//.test(a.url) ? a.url : null;
  const href = uid ? blob(uid) : url ?? (/^[0-9]{1,15}$/.test(String(a.id ?? '')) ? blob(a.id) : null);
  return h('div', { class: 'attachment' }, 'Attachment: ', href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, a.name ?? a.type ?? 'file') : null, ' ', h('span', { class: 'muted mono' }, fields));
}

async function openDialog(root, appId, dialogId) {
  const { dialog, total, messages } = await api('GET', `/apps/${appId}/dialogs/${dialogId}`);
  const remove = h('button', {
    class: 'danger',
    onclick: async () => {
      if (!(await ask(`Delete this dialog and its ${total} messages for everyone?`, { ok: 'Delete' }))) return;
      await api('DELETE', `/apps/${appId}/dialogs/${dialogId}`);
      toast('Dialog deleted');
      location.hash = '#/dialogs';
    },
  }, 'Delete dialog');
  root.append(
    h('p', {}, h('a', { href: '#/dialogs' }, '← Dialogs')),
    h('h1', {}, dialog.name || (dialog.type === 3 ? `Private dialog ${dialog.occupant_ids.join(' and ')}` : `Dialog ${dialog.id}`)),
    h('p', { class: 'muted' }, `${TYPES[dialog.type]} · occupants ${dialog.occupant_ids.join(', ') || '—'} · owner ${dialog.owner_id} · ${total} message${total === 1 ? '' : 's'}${total > messages.length ? ` (latest ${messages.length} shown)` : ''}`),
    h('div', { class: 'toolbar' }, remove),
    h('div', { class: 'scroll', id: 'history' }, messages.length === 0 ? h('p', { class: 'muted', style: 'padding:.6rem' }, 'No stored messages.') : messages.map((m) =>
      h('div', { class: 'message', dataset: { message: m.id } },
        h('div', { class: 'meta' }, `${m.sender_id} → ${m.recipient_id || 'group'} · ${new Date(m.date_sent * 1000).toLocaleString()} · read by ${m.read_ids.join(', ')}`),
        h('div', { class: 'body' }, m.body),
        m.attachments.map((a) => attachmentView(appId, a))))),
  );
}
