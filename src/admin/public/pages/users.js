// Users of one application: search, create, edit, reset the password, delete (which ends their
// XMPP sessions).
import { api } from '../api.js';
import { ask, askForm, h, table, toast, when } from '../dom.js';
import { appPicker } from './app-picker.js';

export async function render(root) {
  let appId;
  const picker = await appPicker((id) => { appId = id; search(); });
  appId = picker.appId;
  if (appId === null) return root.append(h('h1', {}, 'Users'), h('p', { class: 'muted' }, 'Create an application first.'));

  const q = h('input', { name: 'q', type: 'search', maxlength: 100, placeholder: 'login, email, name or id' });
  const field = h('select', { name: 'field' }, ['login', 'email', 'full_name', 'external_user_id'].map((f) => h('option', { value: f }, f.replace(/_/g, ' '))));
  const results = h('div');
  const summary = h('p', { class: 'muted' });
  const searchForm = h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); search(); } },
    picker.element, h('label', {}, 'Search', q), h('label', {}, 'In', field), h('button', { type: 'submit' }, 'Search'));

  const login = h('input', { name: 'login', required: true, maxlength: 50 });
  const password = h('input', { name: 'password', type: 'password', required: true, minlength: 8, maxlength: 128, autocomplete: 'new-password' });
  const email = h('input', { name: 'email', type: 'email', maxlength: 255 });
  const fullName = h('input', { name: 'full_name', maxlength: 255 });
  const createForm = h('form', {
    class: 'inline',
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const user = await api('POST', `/apps/${appId}/users`, { login: login.value, password: password.value, email: email.value || null, full_name: fullName.value || null });
        toast(`Created user ${user.id}`);
        for (const input of [login, password, email, fullName]) input.value = '';
        q.value = user.login;
        field.value = 'login';
        await search();
      } catch (err) {
        toast(err.message);
      }
    },
  }, h('label', {}, 'Login', login), h('label', {}, 'Password', password), h('label', {}, 'Email', email), h('label', {}, 'Full name', fullName), h('button', { type: 'submit' }, 'Create user'));

  root.append(h('h1', {}, 'Users'), searchForm, summary, results, h('h2', {}, 'New user'), createForm);

  async function edit(u) {
    const values = await askForm(`Edit user ${u.id}`, [
      { name: 'login', label: 'Login', value: u.login, maxlength: 50 },
      { name: 'email', label: 'Email', value: u.email, type: 'email' },
      { name: 'full_name', label: 'Full name', value: u.full_name },
      { name: 'phone', label: 'Phone', value: u.phone, maxlength: 50 },
      { name: 'tags', label: 'Tags (comma-separated)', value: u.tags.join(', '), maxlength: 1000 },
    ]);
    if (values === null) return;
    const tags = values.tags.split(',').map((t) => t.trim()).filter(Boolean);
    try {
      await api('PATCH', `/apps/${appId}/users/${u.id}`, { login: values.login, email: values.email, full_name: values.full_name, phone: values.phone, tags });
      toast('Saved');
    } catch (err) {
      toast(err.message);
    }
    await search();
  }
  async function resetPassword(u) {
    const value = await ask(`New password for ${u.login} (8 characters or more). Their XMPP sessions will be closed.`, { input: 'Password', type: 'password', ok: 'Set password' });
    if (value === null) return;
    try {
      const r = await api('POST', `/apps/${appId}/users/${u.id}/password`, { password: value });
      toast(`Password set; ${r.closed_sessions} session(s) closed`);
    } catch (err) {
      toast(err.message);
    }
  }
  async function remove(u) {
    if (!(await ask(`Delete user ${u.login} (${u.id})? Their XMPP sessions are closed.`, { ok: 'Delete' }))) return;
    const r = await api('DELETE', `/apps/${appId}/users/${u.id}`);
    toast(`Deleted; ${r.closed_sessions} session(s) closed`);
    await search();
  }

  async function search() {
    const params = new URLSearchParams({ q: q.value.trim(), field: field.value });
    const { total, items } = await api('GET', `/apps/${appId}/users?${params}`);
    summary.textContent = `${total} user${total === 1 ? '' : 's'}${total > items.length ? ` (showing ${items.length})` : ''}`;
    results.replaceChildren(table(['Id', 'Login', 'Email', 'Full name', 'Tags', 'Online', 'Last request', ''], items.map((u) =>
      h('tr', { dataset: { user: u.id, login: u.login } },
        h('td', {}, u.id), h('td', { class: 'mono' }, u.login), h('td', {}, u.email ?? ''), h('td', { class: 'full-name' }, u.full_name ?? ''), h('td', {}, u.tags.join(', ')),
        h('td', {}, u.online ? h('span', { class: 'pill on' }, `${u.online}`) : ''), h('td', {}, when(u.last_request_at)),
        h('td', {}, h('div', { class: 'actions' },
          h('button', { class: 'secondary small', onclick: () => edit(u) }, 'Edit'),
          h('button', { class: 'secondary small', onclick: () => resetPassword(u) }, 'Password'),
          h('button', { class: 'danger small', onclick: () => remove(u) }, 'Delete')))))));
  }
  await search();
}
