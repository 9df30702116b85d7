import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import qs from 'qs';
import { restHarness, signedSessionParams, PASSWORD, type RestHarness } from './harness.js';
import { sign } from './signature.js';

const form = (data: Record<string, unknown>) => ({
  payload: qs.stringify(data, { encodeValuesOnly: true }),
  headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
});
const NO_SESSION = { errors: { base: ['Required session does not exist'] } };

describe('REST sessions', () => {
  let h: RestHarness;
  before(async () => {
    h = await restHarness();
  });
  after(() => h.close());

  it('announces its own endpoints in account settings', async () => {
    const res = await h.request({ method: 'GET', url: '/account_settings.json', headers: { 'qb-account-key': h.application.accountKey, host: 'api.chat.test:8443' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { api_endpoint: 'http://api.chat.test:8443', chat_endpoint: 'chat.test', turnserver_endpoint: 'chat.test' });
  });

  it('creates an application session from a form body signed like the SDK signs it', async () => {
    const params = signedSessionParams(h.application, {}, 4321);
    const res = await h.request({ method: 'POST', url: '/session.json', ...form(params) });
    assert.equal(res.statusCode, 201, res.body);
    const { session } = res.json();
    assert.deepEqual(Object.keys(session).sort(), ['_id', 'application_id', 'created_at', 'id', 'nonce', 'token', 'ts', 'updated_at', 'user_id']);
    assert.equal(session.application_id, h.application.id);
    assert.equal(session.user_id, 0);
    assert.equal(session.nonce, 4321);
    assert.equal(session._id, String(session.id));
    assert.match(session.token, /^[0-9a-f]{40}$/);
    assert.match(session.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const expiry = String(res.headers['qb-token-expirationdate']);
    assert.match(expiry, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const lifetime = new Date(expiry.replace(' UTC', 'Z').replace(' ', 'T')).getTime() - Date.now();
    assert.ok(Math.abs(lifetime - 7200_000) < 5000, `lifetime ${lifetime}`);
  });

  it('creates a user session from JSON with a SHA-256 signature', async () => {
    const user = await h.newUser();
    const params: Record<string, unknown> = { application_id: h.application.id, auth_key: h.application.authKey, nonce: 77, timestamp: Math.floor(Date.now() / 1000), user: { login: user.login, password: PASSWORD } };
    params.signature = sign(params, h.application.authSecret, 'sha256');
    const res = await h.request({ method: 'POST', url: '/session.json', payload: params });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().session.user_id, user.id);
    const get = await h.request({ method: 'GET', url: '/session.json', headers: { 'qb-token': res.json().session.token } });
    assert.equal(get.statusCode, 200);
    assert.equal(get.json().session.user_id, user.id);
  });

  it('refuses a wrong signature, and the nonce stays usable', async () => {
    const params = signedSessionParams(h.application, {}, 999);
    const bad = await h.request({ method: 'POST', url: '/session.json', ...form({ ...params, signature: 'a'.repeat(40) }) });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(bad.json(), { errors: { base: ['Unexpected signature'] } });
    const tampered = await h.request({ method: 'POST', url: '/session.json', ...form({ ...params, nonce: 1000 }) });
    assert.equal(tampered.statusCode, 422);
    const good = await h.request({ method: 'POST', url: '/session.json', ...form(params) });
    assert.equal(good.statusCode, 201);
  });

  it('refuses a replayed (timestamp, nonce) pair', async () => {
    const params = signedSessionParams(h.application, {}, 31337);
    assert.equal((await h.request({ method: 'POST', url: '/session.json', ...form(params) })).statusCode, 201);
    const again = await h.request({ method: 'POST', url: '/session.json', ...form(params) });
    assert.equal(again.statusCode, 422);
    assert.deepEqual(again.json(), { errors: { base: ['Unexpected nonce'] } });
  });

  it('refuses a timestamp outside the window, a wrong auth key and missing fields', async () => {
    const old: Record<string, unknown> = { application_id: h.application.id, auth_key: h.application.authKey, nonce: 5, timestamp: Math.floor(Date.now() / 1000) - 7200 };
    old.signature = sign(old, h.application.authSecret);
    const stale = await h.request({ method: 'POST', url: '/session.json', payload: old });
    assert.equal(stale.statusCode, 422);
    assert.deepEqual(stale.json(), { errors: { base: ['Unexpected timestamp'] } });
    const wrongKey = await h.request({ method: 'POST', url: '/session.json', payload: { ...signedSessionParams(h.application), auth_key: 'nope' } });
    assert.equal(wrongKey.statusCode, 422);
    const missing = await h.request({ method: 'POST', url: '/session.json', payload: { application_id: h.application.id } });
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(missing.json(), { errors: { auth_key: ["can't be blank"] } });
  });

  it('answers 401 Unauthorized to wrong user credentials, with no session created', async () => {
    const user = await h.newUser();
    const res = await h.request({ method: 'POST', url: '/session.json', ...form(signedSessionParams(h.application, { user: { login: user.login, password: 'wrong-password' } })) });
    assert.equal(res.statusCode, 401);
    assert.equal(res.body, '{"errors":["Unauthorized"]}');
    assert.equal(res.headers['www-authenticate'], 'OAuth realm=users');
    assert.deepEqual(await h.store.sessions.userSessions(h.application.id, user.id, new Date(), 5), []);
  });

  it('upgrades the same token with login (202), downgrades it with logout', async () => {
    const user = await h.newUser();
    const token = await h.session();
    const headers = { 'qb-token': token };
    const needUser = await h.request({ method: 'DELETE', url: '/login.json', headers });
    assert.equal(needUser.statusCode, 422);
    assert.equal(needUser.body, '{"errors":{"base":["Forbidden. Need user."]}}');
    const wrong = await h.request({ method: 'POST', url: '/login.json', ...form({ login: user.login, password: 'nope' }), headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(wrong.statusCode, 401);
    const login = await h.request({ method: 'POST', url: '/login.json', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `login=${user.login}&password=${PASSWORD}` });
    assert.equal(login.statusCode, 202, login.body);
    assert.equal(login.json().user.id, user.id);
    assert.equal(login.json().user.password, undefined);
    assert.ok(login.json().user.last_request_at);
    assert.equal((await h.request({ method: 'GET', url: '/session.json', headers })).json().session.user_id, user.id);
    const logout = await h.request({ method: 'DELETE', url: '/login.json', headers });
    assert.equal(logout.statusCode, 200);
    assert.equal(logout.body, '');
    assert.equal((await h.request({ method: 'GET', url: '/session.json', headers })).json().session.user_id, 0);
  });

  it('destroys a session; the token is then unknown', async () => {
    const token = await h.session();
    const res = await h.request({ method: 'DELETE', url: '/session.json', headers: { 'qb-token': token } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    const after = await h.request({ method: 'GET', url: '/session.json', headers: { 'qb-token': token } });
    assert.equal(after.statusCode, 401);
    assert.deepEqual(after.json(), NO_SESSION);
    assert.deepEqual((await h.request({ method: 'GET', url: '/session.json' })).json(), NO_SESSION);
    assert.deepEqual((await h.request({ method: 'GET', url: '/session.json', headers: { 'qb-token': 'f'.repeat(40) } })).json(), NO_SESSION);
  });

  it('slides the token lifetime with each request and expires it after a quiet lifetime', async () => {
    const token = await h.session();
    const start = Date.now();
    try {
      h.deps.now = () => new Date(start + 7000_000);
      const slid = await h.request({ method: 'GET', url: '/session.json', headers: { 'qb-token': token } });
      assert.equal(slid.statusCode, 200);
      h.deps.now = () => new Date(start + 7000_000 + 7100_000);
      assert.equal((await h.request({ method: 'GET', url: '/session.json', headers: { 'qb-token': token } })).statusCode, 200);
      h.deps.now = () => new Date(start + 7000_000 + 7100_000 + 7300_000);
      assert.equal((await h.request({ method: 'GET', url: '/session.json', headers: { 'qb-token': token } })).statusCode, 401);
    } finally {
      h.deps.now = undefined;
    }
  });

  it('keeps applications apart: a token of one is useless for another\'s users', async () => {
    const other = await h.store.accounts.createApplication({ name: 'other' });
    const stranger = await h.newUser(undefined, undefined, other);
    const token = await h.session();
    const res = await h.request({ method: 'GET', url: `/users/${stranger.id}.json`, headers: { 'qb-token': token } });
    assert.equal(res.statusCode, 404);
    const login = await h.request({ method: 'POST', url: '/login.json', headers: { 'qb-token': token }, payload: { login: stranger.login, password: PASSWORD } });
    assert.equal(login.statusCode, 401);
  });

  it('answers CORS preflights for the QuickBlox headers and unknown paths as QuickBlox 404s', async () => {
    const pre = await h.request({ method: 'OPTIONS', url: '/chat/Dialog.json', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'qb-token,qb-sdk,content-type' } });
    assert.ok(pre.statusCode === 204 || pre.statusCode === 200, String(pre.statusCode));
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    assert.match(String(pre.headers['access-control-allow-headers']), /QB-Token/);
    const missing = await h.request({ method: 'GET', url: '/nope.json' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { errors: ["The resource wasn't found"] });
    const badJson = await h.request({ method: 'POST', url: '/session.json', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    assert.equal(badJson.statusCode, 400);
    assert.ok(badJson.json().errors);
  });
});
