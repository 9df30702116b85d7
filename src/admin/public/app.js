// The console's shell: sign-in, the navigation, and one page module per hash route.
import { api, setCsrf, ApiError } from './api.js';
import { h } from './dom.js';

const PAGES = {
  overview: () => import('./pages/overview.js'),
  apps: () => import('./pages/apps.js'),
  users: () => import('./pages/users.js'),
  dialogs: () => import('./pages/dialogs.js'),
  sessions: () => import('./pages/sessions.js'),
  log: () => import('./pages/log.js'),
};

const view = document.getElementById('view');
const header = document.querySelector('header.top');
let cleanup = null;
let me = null;

async function show() {
  cleanup?.();
  cleanup = null;
  if (!me) return;
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const page = PAGES[name] ? name : 'overview';
  for (const a of header.querySelectorAll('nav a')) a.classList.toggle('current', a.getAttribute('href') === `#/${page}`);
  const module = await PAGES[page]();
  view.replaceChildren();
  document.getElementById('toast').classList.remove('show');
  document.body.dataset.page = page;
  try {
    cleanup = (await module.render(view, { me, args: rest.map(decodeURIComponent) })) ?? null;
  } catch (err) {
    view.append(h('p', { class: 'error' }, err instanceof ApiError ? err.message : String(err)));
  }
}

function signInForm() {
  header.hidden = true;
  const error = h('p', { class: 'error', id: 'signin-error' });
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'username', maxlength: 254 });
  const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'current-password', maxlength: 128 });
  const form = h('form', {
    onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        signedIn(await api('POST', '/signin', { email: email.value, password: password.value }));
      } catch (err) {
        error.textContent = err.message;
      }
    },
  }, h('label', {}, 'Email', email), h('label', {}, 'Password', password), h('button', { type: 'submit' }, 'Sign in'), error);
  view.replaceChildren(h('section', { class: 'signin' }, h('h1', {}, 'Parley console'), form));
  email.focus();
}

function signedIn(session) {
  me = session;
  setCsrf(session.csrf);
  header.hidden = false;
  document.getElementById('operator').textContent = session.operator.email;
  show();
}

document.getElementById('signout').addEventListener('click', async () => {
  await api('POST', '/signout').catch(() => {});
  me = null;
  cleanup?.();
  signInForm();
});
window.addEventListener('parley:signed-out', () => {
  me = null;
  cleanup?.();
  signInForm();
});
window.addEventListener('hashchange', show);

try {
  signedIn(await api('GET', '/me'));
} catch {
  signInForm();
}
