// Recent warnings and errors (an in-memory ring of the server's log).
import { api } from '../api.js';
import { h, table } from '../dom.js';

export async function render(root) {
  const body = h('div');
  root.append(h('h1', {}, 'Log'), h('p', { class: 'muted' }, 'The most recent warnings and errors of this node, newest first.'), body);
  const load = async () => {
    const { items } = await api('GET', '/logs');
    body.replaceChildren(items.length === 0 ? h('p', { class: 'muted' }, 'Nothing logged at warning level or above.') : table(['Time', 'Level', 'Message', 'Details'], items.map((e) =>
      h('tr', {}, h('td', {}, new Date(e.time).toLocaleString()), h('td', {}, h('span', { class: `pill ${e.level}` }, e.level)), h('td', {}, e.msg),
        h('td', { class: 'mono' }, Object.keys(e.fields).length ? JSON.stringify(e.fields) : '')))));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 5000);
  return () => clearInterval(timer);
}
