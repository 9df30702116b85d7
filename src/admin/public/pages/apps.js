// Applications: create, show keys, rotate the auth secret, delete (typing the name to confirm).
import { api } from '../api.js';
import { ask, h, toast, when } from '../dom.js';

export async function render(root, { me }) {
  const list = h('div', { class: 'cards' });
  const name = h('input', { name: 'name', maxlength: 100, placeholder: 'my app' });
  const create = h('form', {
    class: 'inline',
    onsubmit: async (event) => {
      event.preventDefault();
      const app = await api('POST', '/apps', { name: name.value });
      name.value = '';
      toast(`Created application ${app.id}`);
      await load();
    },
  }, h('label', {}, 'New application', name), h('button', { type: 'submit' }, 'Create'));
  root.append(h('h1', {}, 'Applications'), me.operator.app_ids === null ? create : h('p', { class: 'muted' }, 'You manage the applications below.'), list);

  const key = (label, value, field) => [h('dt', {}, label), h('dd', { class: 'mono', dataset: { field } }, value)];
  const load = async () => {
    const { items } = await api('GET', '/apps');
    list.replaceChildren(...items.map((a) => h('section', { class: 'card', dataset: { app: a.id } },
      h('h3', {}, `${a.name}`, h('span', { class: 'now' }, `id ${a.id}`)),
      h('dl', { class: 'keys' },
        key('Application id', a.id, 'id'), key('Auth key', a.auth_key, 'auth_key'), key('Auth secret', a.auth_secret, 'auth_secret'),
        key('Account key', a.account_key, 'account_key'), key('Created', when(a.created_at), 'created_at')),
      h('div', { class: 'actions' },
        h('button', {
          class: 'secondary small',
          onclick: async () => {
            if (!(await ask(`Rotate the auth secret of "${a.name}"? New sessions must sign with the new secret.`, { ok: 'Rotate' }))) return;
            await api('POST', `/apps/${a.id}/rotate-secret`);
            toast('Auth secret rotated');
            await load();
          },
        }, 'Rotate secret'),
        h('button', {
          class: 'danger small',
          onclick: async () => {
            const typed = await ask(`Delete "${a.name}" with all its users, dialogs and history? This cannot be undone.`, { input: 'Type the application name', ok: 'Delete' });
            if (typed === null) return;
            try {
              await api('DELETE', `/apps/${a.id}`, { confirm: typed });
              toast('Application deleted');
            } catch (err) {
              toast(err.message);
            }
            await load();
          },
        }, 'Delete')))));
    if (items.length === 0) list.append(h('p', { class: 'muted' }, 'No applications.'));
  };
  await load();
}
