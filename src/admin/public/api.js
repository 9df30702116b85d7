// The console's JSON API client: same-origin cookie, the session's CSRF token on every change.
let csrf = '';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const setCsrf = (token) => { csrf = token ?? ''; };

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  const res = await fetch(`/admin/api${path}`, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    if (res.status === 401 && path !== '/signin' && path !== '/me') window.dispatchEvent(new Event('parley:signed-out'));
    throw new ApiError(res.status, data.error ?? `HTTP ${res.status}`);
  }
  return data;
}

/** The application the users and dialogs pages work on, remembered across visits. */
export async function applications() {
  return (await api('GET', '/apps')).items;
}
export const currentAppId = (apps) => {
  const saved = Number(localStorage.getItem('parley.app'));
  return apps.some((a) => a.id === saved) ? saved : apps[0]?.id ?? null;
};
export const rememberApp = (id) => localStorage.setItem('parley.app', String(id));
