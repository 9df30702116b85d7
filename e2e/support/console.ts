// An HTTP client for the operator console's API: keeps the session cookie and sends the CSRF token.
export interface ConsoleResponse {
  status: number;
  body: any;
  headers: Headers;
}

export class ConsoleClient {
  cookie = '';
  csrf = '';

  constructor(readonly base: string) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ConsoleResponse> {
    const res = await fetch(`${this.base}/admin/api${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(method !== 'GET' && this.csrf ? { 'x-csrf-token': this.csrf } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  }

  async signIn(email: string, password: string): Promise<ConsoleResponse> {
    const res = await this.request('POST', '/signin', { email, password });
    if (res.status === 200) this.csrf = res.body.csrf;
    return res;
  }

  get = (path: string) => this.request('GET', path);
  post = (path: string, body?: unknown) => this.request('POST', path, body ?? {});
  patch = (path: string, body: unknown) => this.request('PATCH', path, body);
  delete = (path: string, body?: unknown) => this.request('DELETE', path, body);
}

/** Polls `condition` every 25 ms; rejects with `label` after `ms`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, ms: number, label: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${label}: timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
