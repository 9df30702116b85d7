// Sign-in through an application's identity provider: a local HTTP server plays the provider and
// checks what Parley sends (templated headers and parameters); signed session requests go through
// the real REST app. Covers first sign-in (user made), later ones (user updated, same user), the
// provider's refusal, a provider that is down, slow, or answers something unusable.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { restHarness, signedSessionParams, type RestHarness } from '../rest/harness.js';
import { IDENTITY_PROVIDER_SETTING, parseProviderSettings } from './provider.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('custom identity provider', () => {
  let idp: http.Server;
  let idpUrl: string;
  let h: RestHarness;
  const seen: Seen[] = [];
  let answer: (req: Seen) => { status: number; body: string; delayMs?: number } = () => ({ status: 500, body: '' });

  before(async () => {
    idp = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        seen.push(s);
        const a = answer(s);
        setTimeout(() => res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body), a.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    idpUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/verify`;
    h = await restHarness();
    await h.store.appSettings.set(h.application.id, IDENTITY_PROVIDER_SETTING, {
      url: idpUrl,
      method: 'POST',
      headers: { IdP_user_ID: '#{login}' },
      params: { token: '#{password}' },
      mapping: { uid: '#{user.id}', login: '#{user.login}', full_name: '#{user.name}', email: '#{user.email}' },
      timeout_ms: 500,
    });
  });
  after(async () => {
    await h?.close();
    idp?.closeAllConnections();
    await new Promise<void>((resolve) => idp?.close(() => resolve()));
  });

  const signIn = (login: string, password: string) =>
    h.request({ method: 'POST', url: '/session.json', payload: signedSessionParams(h.application, { user: { login, password } }) });

  it('makes the user on the first sign-in and updates the same user later', async () => {
    answer = (req) => (req.headers['idp-user-id'] === 'ext-42' && JSON.parse(req.body).token === 'good-token'
      ? { status: 200, body: JSON.stringify({ user: { id: 42, login: 'ann.idp', name: 'Ann', email: 'ann@idp.test' } }) }
      : { status: 401, body: JSON.stringify({ error: 'bad token' }) });
    const first = await signIn('ext-42', 'good-token');
    assert.equal(first.statusCode, 201, first.body);
    const userId = first.json().session.user_id;
    const user = await h.store.accounts.getUser(h.application.id, userId);
    assert.equal(user?.login, 'ann.idp');
    assert.equal(user?.fullName, 'Ann');
    assert.equal(user?.email, 'ann@idp.test');
    const request = seen.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/json');

    answer = () => ({ status: 200, body: JSON.stringify({ user: { id: 42, login: 'ann.idp', name: 'Ann B', email: 'ann@idp.test' } }) });
    const again = await signIn('ext-42', 'another-token');
    assert.equal(again.json().session.user_id, userId, 'the same user, found by the provider uid');
    assert.equal((await h.store.accounts.getUser(h.application.id, userId))?.fullName, 'Ann B');
    assert.equal((await h.store.accounts.verifyPassword(h.application.id, userId, 'good-token')), false, 'the provider token is not stored as a password');

    const appSession = await h.session();
    const login = await h.request({ method: 'POST', url: '/login.json', headers: { 'qb-token': appSession }, payload: { login: 'ext-42', password: 'x' } });
    assert.equal(login.statusCode, 202);
    assert.equal(login.json().user.id, userId);
  });

  it('generates a login from the uid when the answer has none', async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ user: { id: 'u-7' } }) });
    const res = await signIn('whoever', 'tok');
    assert.equal(res.statusCode, 201, res.body);
    assert.equal((await h.store.accounts.getUser(h.application.id, res.json().session.user_id))?.login, 'idp-u-7');
  });

  it("passes the provider's refusal back as a 401", async () => {
    answer = () => ({ status: 403, body: JSON.stringify({ error: 'token expired' }) });
    const res = await signIn('ext-42', 'old');
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { errors: ['token expired'] });
  });

  it('answers 502 for an unusable answer and 503 when the provider fails, is slow or down', async () => {
    for (const body of ['not json', JSON.stringify({ user: {} }), JSON.stringify({ user: { id: { nested: true } } }), 'x'.repeat(70_000)]) {
      answer = () => ({ status: 200, body });
      const res = await signIn('ext-42', 'tok');
      assert.equal(res.statusCode, 502, body.slice(0, 30));
      assert.deepEqual(res.json(), { errors: { base: ['The identity provider gave an answer that cannot be used'] } });
    }
    answer = () => ({ status: 500, body: '{}' });
    assert.equal((await signIn('ext-42', 'tok')).statusCode, 503);
    answer = () => ({ status: 200, body: JSON.stringify({ user: { id: 1 } }), delayMs: 1500 });
    const slow = await signIn('ext-42', 'tok');
    assert.equal(slow.statusCode, 503);
    assert.deepEqual(slow.json(), { errors: { base: ['The identity provider is unavailable'] } });

    const down = await restHarness();
    try {
      await down.store.appSettings.set(down.application.id, IDENTITY_PROVIDER_SETTING, { url: 'http://127.0.0.1:1/verify', mapping: { uid: '#{id}' } });
      const res = await down.request({ method: 'POST', url: '/session.json', payload: signedSessionParams(down.application, { user: { login: 'a', password: 'b' } }) });
      assert.equal(res.statusCode, 503);
    } finally {
      await down.close();
    }
  });

  it('checks the setting the operator gives', () => {
    assert.throws(() => parseProviderSettings('{"url":"ftp://x","mapping":{"uid":"#{id}"}}'), /http\(s\) URL/);
    assert.throws(() => parseProviderSettings({ url: 'https://idp.test', mapping: {} }), /uid is required/);
    assert.throws(() => parseProviderSettings({ url: 'https://idp.test', method: 'PUT', mapping: { uid: '#{id}' } }), /GET or POST/);
    assert.equal(parseProviderSettings({ url: 'https://idp.test', mapping: { uid: '#{id}' } }).method, 'POST');
  });
});
