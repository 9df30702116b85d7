// The application selector at the top of the users and dialogs pages.
import { applications, currentAppId, rememberApp } from '../api.js';
import { h } from '../dom.js';

/** Resolves to { element, appId } ; calls onChange(appId) when the operator picks another one. */
export async function appPicker(onChange) {
  const apps = await applications();
  const appId = currentAppId(apps);
  const select = h('select', { name: 'app', onchange: () => { rememberApp(select.value); onChange(Number(select.value)); } },
    apps.map((a) => h('option', { value: a.id, selected: a.id === appId }, `${a.id} · ${a.name}`)));
  return { element: h('label', {}, 'Application', select), appId };
}
