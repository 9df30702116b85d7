// A tiny element builder: h('td', { class: 'mono' }, text, child, ...). Text is always set as
// text (never parsed as HTML), so nothing the server returns can inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A table inside a horizontally scrolling box (narrow screens). */
export function table(headers, rows) {
  return h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))), h('tbody', {}, rows)));
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

let toastTimer;
export function toast(text) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 3000);
}

/**
 * Asks the operator: a yes/no question, or with `input` a value to type (a password, a name to
 * confirm). Resolves to the typed value (or true), or null when cancelled.
 */
export function ask(text, { input = null, type = 'text', ok = 'OK' } = {}) {
  const dialog = document.getElementById('ask');
  const field = document.getElementById('ask-input');
  const label = document.getElementById('ask-label');
  document.getElementById('ask-text').textContent = text;
  document.getElementById('ask-ok').textContent = ok;
  label.hidden = input === null;
  label.querySelector('span').textContent = input ?? '';
  field.type = type;
  field.value = '';
  field.required = input !== null;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? (input === null ? true : field.value) : null), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    if (input !== null) field.focus();
  });
}

/** A small form in a modal: fields [{ name, label, value, type }]; resolves to { name: value } or null. */
export function askForm(title, fields) {
  const inputs = fields.map((f) => h('input', { name: f.name, type: f.type ?? 'text', value: f.value ?? '', maxlength: f.maxlength ?? 255 }));
  const dialog = h('dialog', { class: 'form-dialog' },
    h('form', { method: 'dialog' },
      h('p', {}, title),
      fields.map((f, i) => h('label', {}, f.label, inputs[i])),
      h('menu', {}, h('button', { value: 'cancel', formnovalidate: true, class: 'secondary' }, 'Cancel'), ' ', h('button', { value: 'ok' }, 'Save'))));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const values = Object.fromEntries(fields.map((f, i) => [f.name, inputs[i].value]));
      dialog.remove();
      resolve(dialog.returnValue === 'ok' ? values : null);
    }, { once: true });
    dialog.showModal();
  });
}
