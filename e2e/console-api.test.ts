// The operator console's API over real HTTP: sign-in and its cookie, CSRF refusal, throttling,
// operators limited to some applications, and the effects on live XMPP sessions (@xmpp/client).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useServer } from './support/fixture.js';
import { ConsoleClient, waitFor } from './support/console.js';
import { freePort, startTestServer } from './support/server.js';
import { withTimeout } from './support/wait.js';

const PASSWORD = 'operator password';

describe('operator console API', () => {
  const fx = useServer({ overrides: { admin_signins_per_minute: 30 } });
  const base = () => `http://127.0.0.1:${fx.t.server.ports.http}`;
  let counter = 0;
  const operator = async (appIds: number[] | null = null) => {
    const email = `op${++counter}@example.org`;
    await fx.t.store.operators.createOperator({ email, password: PASSWORD, appIds });
    const client = new ConsoleClient(base());
    const res = await client.signIn(email, PASSWORD);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return client;
  };

  it('signs in with a session cookie that is HttpOnly, SameSite=Strict and scoped to /admin', async () => {
    await fx.t.store.operators.createOperator({ email: 'first@example.org', password: PASSWORD, appIds: null });
    const client = new ConsoleClient(base());
    assert.equal((await client.get('/me')).status, 401);
    const wrong = await client.signIn('first@example.org', 'not it');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'wrong email or password');
    assert.equal((await client.signIn('nobody@example.org', PASSWORD)).status, 401);
    const res = await client.signIn('FIRST@example.org', PASSWORD);
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /^parley_console=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /; Path=\/admin/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/, 'plain HTTP: a Secure cookie would never come back');
    assert.equal(res.body.operator.email, 'first@example.org');
    const me = await client.get('/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.csrf, res.body.csrf);
    // A QuickBlox token is no way in, and the console's cookie is no QuickBlox token.
    assert.equal((await fetch(`${base()}/admin/api/apps`, { headers: { 'qb-token': 'x' } })).status, 401);
    assert.equal((await fetch(`${base()}/users.json`, { headers: { cookie: client.cookie } })).status, 401);
    assert.equal((await client.post('/signout')).status, 204);
    assert.equal((await client.get('/me')).status, 401, 'the session is gone from the store, not only from the browser');
  });

  it('refuses changes without the CSRF token or from another origin', async () => {
    const client = await operator();
    const token = client.csrf;
    client.csrf = '';
    assert.equal((await client.post('/apps', { name: 'x' })).status, 403);
    client.csrf = 'A'.repeat(token.length);
    assert.equal((await client.post('/apps', { name: 'x' })).status, 403);
    client.csrf = token;
    const foreign = await client.request('POST', '/apps', { name: 'x' }, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error, 'cross-origin request refused');
    assert.equal((await client.request('POST', '/apps', { name: 'x' }, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await client.request('POST', '/apps', { name: 'x' }, { origin: 'null' })).status, 403);
    assert.equal((await client.request('POST', '/apps', { name: 'x' }, { origin: `https://127.0.0.1:${fx.t.server.ports.http}.evil.example` })).status, 403);
    // Same host, https: what a browser sends through a proxy that terminates TLS.
    const ok = await client.request('POST', '/apps', { name: 'made' }, { origin: base().replace('http:', 'https:') });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.name, 'made');
    assert.equal((await client.get('/apps')).body.items.some((a: { id: number }) => a.id === ok.body.id), true);
  });

  it('serves the pages with a strict content security policy and no CORS opening', async () => {
    const page = await fetch(`${base()}/admin`, { headers: { origin: 'https://evil.example' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    assert.equal(page.headers.get('access-control-allow-origin'), null);
    assert.match(await page.text(), /<script type="module" src="\/admin\/app.js">/);
    const uplot = await fetch(`${base()}/admin/uPlot.esm.js`);
    assert.equal(uplot.status, 200);
    assert.match(uplot.headers.get('content-type')!, /javascript/);
    assert.equal((await fetch(`${base()}/admin/../package.json`)).status, 404);
    assert.equal((await fetch(`${base()}/admin/api/nothing`)).status, 404);
  });

  it('an operator limited to some applications sees and changes only those', async () => {
    const other = await fx.t.createApp();
    const client = await operator([fx.t.app.id]);
    assert.deepEqual((await client.get('/apps')).body.items.map((a: { id: number }) => a.id), [fx.t.app.id]);
    assert.equal((await client.get(`/apps/${other.id}`)).status, 404);
    assert.equal((await client.get(`/apps/${other.id}/users`)).status, 404);
    assert.equal((await client.post(`/apps/${other.id}/users`, { login: 'x', password: 'long enough' })).status, 404);
    assert.equal((await client.post(`/apps/${other.id}/rotate-secret`)).status, 404);
    assert.equal((await client.get(`/apps/${other.id}/blobs/${'a'.repeat(32)}`)).status, 404);
    assert.equal((await client.get(`/apps/${other.id}/dialogs`)).status, 404);
    assert.equal((await client.delete(`/apps/${other.id}`, { confirm: other.name })).status, 404);
    assert.equal((await client.post('/apps', { name: 'mine' })).status, 403);
    assert.equal((await client.get('/logs')).status, 403);
    assert.equal((await client.get(`/apps/${fx.t.app.id}/users`)).status, 200);

    const outsider = await fx.t.createUser(undefined, undefined, other);
    const conn = await fx.pool.connect(outsider);
    const sessions = await client.get('/sessions');
    assert.equal(sessions.body.items.some((s: { user_id: number }) => s.user_id === outsider.id), false);
    const all = await (await operator()).get('/sessions');
    const theirs = all.body.items.find((s: { user_id: number }) => s.user_id === outsider.id);
    assert.ok(theirs, 'an unrestricted operator sees the session');
    assert.equal((await client.delete(`/sessions/${theirs.id}`)).status, 404);
    await conn.ping();
    await conn.stop();
  });

  it('creates, finds, edits and deletes users; deleting one ends their XMPP session with a stream error', async () => {
    const client = await operator();
    const appId = fx.t.app.id;
    const created = await client.post(`/apps/${appId}/users`, { login: 'dora', password: 'dora password', email: 'dora@example.org' });
    assert.equal(created.status, 201);
    assert.equal((await client.post(`/apps/${appId}/users`, { login: 'dora', password: 'dora password' })).status, 409);
    assert.equal((await client.post(`/apps/${appId}/users`, { login: 'short', password: 'x' })).status, 400);
    const found = await client.get(`/apps/${appId}/users?q=dor`);
    assert.deepEqual(found.body.items.map((u: { login: string }) => u.login), ['dora']);
    assert.equal((await client.get(`/apps/${appId}/users?q=dora@example&field=email`)).body.items[0].id, created.body.id);
    assert.equal((await client.get(`/apps/${appId}/users?q=${created.body.id}`)).body.items[0].login, 'dora');
    const edited = await client.patch(`/apps/${appId}/users/${created.body.id}`, { full_name: 'Dora D', tags: ['vip'] });
    assert.equal(edited.body.full_name, 'Dora D');
    assert.deepEqual(edited.body.tags, ['vip']);

    const dora = { ...(await fx.t.store.accounts.getUser(appId, created.body.id))!, password: 'dora password', username: `${created.body.id}-${appId}`, jid: '' };
    const conn = await fx.pool.connect(dora);
    assert.equal((await client.get(`/apps/${appId}/users?q=dora`)).body.items[0].online, 1);
    const deleted = await client.delete(`/apps/${appId}/users/${dora.id}`);
    assert.deepEqual(deleted.body, { closed_sessions: 1 });
    await waitFor(() => conn.errors.some((e) => e.condition === 'not-authorized'), 5000, 'stream error at the client');
    assert.equal((await client.get(`/apps/${appId}/users?q=dora`)).body.total, 0);
    assert.equal((await client.delete(`/apps/${appId}/users/${dora.id}`)).status, 404);
    await conn.stop();
  });

  it('resetting a password ends the XMPP sessions with <reset/>, revokes REST tokens, and the new password logs in', async () => {
    const client = await operator();
    const eve = await fx.t.createUser();
    const conn = await fx.pool.connect(eve);
    const token = `tok${Date.now()}`;
    await fx.t.store.sessions.createSession({ token, appId: fx.t.app.id, userId: eve.id, nonce: 1, ts: 1, expiresAt: new Date(Date.now() + 60_000) });
    assert.equal((await fetch(`${base()}/users/${eve.id}.json`, { headers: { 'qb-token': token } })).status, 200);
    const res = await client.post(`/apps/${fx.t.app.id}/users/${eve.id}/password`, { password: 'brand new password' });
    assert.deepEqual(res.body, { closed_sessions: 1, revoked_tokens: 1 });
    assert.equal((await fetch(`${base()}/users/${eve.id}.json`, { headers: { 'qb-token': token } })).status, 401);
    await waitFor(() => conn.errors.some((e) => e.condition === 'reset'), 5000, 'reset stream error');
    await conn.stop();
    const again = await fx.pool.connect({ ...eve, password: 'brand new password' });
    await again.stop();
  });

  it('disconnects one session: the client gets policy-violation and the list no longer shows it', async () => {
    const client = await operator();
    const frank = await fx.t.createUser();
    const conn = await fx.pool.connect(frank, { transport: 'ws' });
    const listed = (await client.get('/sessions')).body.items.find((s: { user_id: number }) => s.user_id === frank.id);
    assert.equal(listed.transport, 'websocket');
    assert.equal(listed.jid, conn.jid);
    assert.equal(listed.available, true);
    assert.equal((await client.delete(`/sessions/${listed.id}`)).status, 204);
    await waitFor(() => conn.errors.some((e) => e.condition === 'policy-violation'), 5000, 'policy-violation');
    const after = (await client.get('/sessions')).body.items;
    assert.equal(after.some((s: { id: string }) => s.id === listed.id), false);
    assert.equal((await client.delete(`/sessions/${listed.id}`)).status, 404);
    await conn.stop();
  });

  it('rotates an auth secret and deletes an application only when its name is typed', async () => {
    const client = await operator();
    const doomed = (await client.post('/apps', { name: 'doomed' })).body;
    const rotated = await client.post(`/apps/${doomed.id}/rotate-secret`);
    assert.notEqual(rotated.body.auth_secret, doomed.auth_secret);
    assert.equal(rotated.body.auth_key, doomed.auth_key);
    assert.equal((await client.delete(`/apps/${doomed.id}`, { confirm: 'doomed?' })).status, 400);
    assert.equal((await client.delete(`/apps/${doomed.id}`, { confirm: 'doomed' })).status, 204);
    assert.equal((await client.get(`/apps/${doomed.id}`)).status, 404);
    assert.equal(await fx.t.store.accounts.getApplication(doomed.id), null);
  });

  it('lists dialogs with filters, reads one with its history, and deletes it for everyone', async () => {
    const client = await operator();
    const appId = fx.t.app.id;
    const [gina, hal] = [await fx.t.createUser(), await fx.t.createUser()];
    const objectId = () => randomBytes(12).toString('hex');
    const group = await fx.t.store.chat.createDialog({
      id: objectId(), appId, type: 2, name: 'Night shift', photo: null, ownerId: gina.id, occupantIds: [gina.id, hal.id], adminIds: [], data: null, isJoinRequired: false, createdAt: new Date(),
    });
    const lonely = await fx.t.store.chat.createDialog({
      id: objectId(), appId, type: 1, name: 'Announcements', photo: null, ownerId: hal.id, occupantIds: [], adminIds: [], data: null, isJoinRequired: false, createdAt: new Date(),
    });
    for (let i = 0; i < 3; i++) {
      await fx.t.store.chat.insertMessage({
        id: objectId(), appId, dialogId: group.id, senderId: gina.id, recipientId: 0, body: `note ${i}`, dateSent: 1_700_000_000 + i,
        attachments: i === 1 ? [{ type: 'image', uid: 'f'.repeat(32), name: 'map.png' }] : [], customParams: {}, markable: false,
        readIds: [gina.id], deliveredIds: [gina.id], createdAt: new Date(), updatedAt: new Date(),
      }, { unreadFor: [hal.id], unhideFor: [] });
    }
    const ids = async (query: string) => (await client.get(`/apps/${appId}/dialogs?${query}`)).body.items.map((d: { id: string }) => d.id);
    assert.deepEqual(await ids(`user=${gina.id}`), [group.id]);
    assert.deepEqual(await ids(`user=${hal.id}`), [group.id, lonely.id].sort());
    assert.deepEqual(await ids(`user=${hal.id}&type=1`), [lonely.id]);
    assert.deepEqual(await ids(`user=${hal.id}&name=night`), [group.id]);
    assert.equal((await client.get(`/apps/${appId}/dialogs?type=9`)).status, 400);
    const opened = await client.get(`/apps/${appId}/dialogs/${group.id}`);
    assert.equal(opened.body.total, 3);
    assert.deepEqual(opened.body.messages.map((m: { body: string }) => m.body), ['note 0', 'note 1', 'note 2']);
    assert.deepEqual(opened.body.messages[1].attachments, [{ type: 'image', uid: 'f'.repeat(32), name: 'map.png' }]);
    assert.equal((await client.get(`/apps/${appId}/blobs/${'f'.repeat(32)}`)).status, 404, 'no such file in the store');
    assert.equal((await client.delete(`/apps/${appId}/dialogs/${group.id}`)).status, 204);
    assert.equal(await fx.t.store.chat.getDialog(appId, group.id), null);
    assert.equal((await client.get(`/apps/${appId}/dialogs/${group.id}`)).status, 404);
    assert.equal((await client.delete(`/apps/${appId}/dialogs/${group.id}`)).status, 404);
  });

  it('serves the overview metrics under their contract names', async () => {
    const client = await operator();
    const res = await client.get('/metrics');
    const names = res.body.metrics.map((m: { name: string }) => m.name).sort();
    assert.deepEqual(names, ['nodejs_eventloop_lag_seconds', 'parley_connections', 'parley_delivery_latency_seconds', 'parley_http_requests_total',
      'parley_messages_total', 'parley_push_total', 'parley_store_size_bytes']);
    const size = res.body.metrics.find((m: { name: string }) => m.name === 'parley_store_size_bytes').values[0].value;
    assert.ok(size > 0, 'the SQLite file has a size');
  });

  it('throttles sign-in attempts per address', async () => {
    const client = new ConsoleClient(base());
    let status = 0;
    for (let i = 0; i < 40 && status !== 429; i++) status = (await client.signIn('first@example.org', 'guess')).status;
    assert.equal(status, 429);
    const blocked = await client.signIn('first@example.org', PASSWORD);
    assert.equal(blocked.status, 429, 'even the right password waits');
  });
});

describe('operator console over HTTPS', () => {
  it('marks the session cookie Secure', async () => {
    const t = await startTestServer({ https_port: await freePort() });
    try {
      await t.store.operators.createOperator({ email: 'tls@example.org', password: PASSWORD, appIds: null });
      const client = new ConsoleClient(`https://127.0.0.1:${t.server.ports.https}`);
      const res = await withTimeout(client.signIn('tls@example.org', PASSWORD), 10_000, 'https sign-in');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('set-cookie')!, /; Secure/);
      assert.equal((await client.get('/me')).status, 200);
    } finally {
      await t.stop();
    }
  });
});
