// The official QuickBlox JS SDK against Parley's REST API: sessions, sign-up, login, users.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { freePort } from './support/server.js';
import { call, sdk, sdkConnectChat, sdkDisconnect, sdkSignUp, type SdkError } from './support/quickblox.js';

const httpsPort = await freePort();

describe('QuickBlox JS SDK: REST', () => {
  const fx = useServer({ overrides: { https_port: httpsPort } });

  it('creates a session, signs up, logs in and reads its session', async () => {
    const u = await sdkSignUp(fx.t, { full_name: 'Sdk Person', email: `sdk${Date.now()}@example.com` });
    assert.match(u.token, /^[0-9a-f]{40}$/);
    const session = await call<any>((cb) => u.qb.getSession(cb));
    assert.equal(session.session.user_id, u.id);
    const me = await call<any>((cb) => u.qb.users.get(u.id, cb));
    assert.equal(me.full_name, 'Sdk Person');
    const byLogin = await call<any>((cb) => u.qb.users.get({ login: u.login }, cb));
    assert.equal(byLogin.id, u.id);
    const list = await call<any>((cb) => u.qb.users.listUsers({ filter: { field: 'id', param: 'in', value: [u.id] } }, cb));
    assert.deepEqual(list.items.map((i: any) => i.user.id), [u.id]);
    const updated = await call<any>((cb) => u.qb.users.update(u.id, { full_name: 'Renamed Person' }, cb));
    assert.equal(updated.full_name, 'Renamed Person');
  });

  it('reports QuickBlox errors the way the SDK surfaces them', async () => {
    const u = await sdkSignUp(fx.t);
    const taken: SdkError = await call((cb) => sdk(fx.t).createSession((err: unknown) => {
      if (err) return cb(err, null);
      return u.qb.users.create({ login: u.login, password: 'another-password' }, cb);
    })).then(() => assert.fail('a duplicate login must fail'), (e) => e);
    assert.equal(taken.code, 422);
    assert.deepEqual(taken.detail, { login: ['has already been taken'] });
    const fresh = sdk(fx.t);
    await call((cb) => fresh.createSession(cb));
    const wrong: SdkError = await call((cb) => fresh.login({ login: u.login, password: 'not-the-password' }, cb)).then(() => assert.fail('wrong password'), (e) => e);
    assert.equal(wrong.code, 401);
    assert.deepEqual(wrong.detail, ['Unauthorized']);
  });

  it('logs out and destroys the session', async () => {
    const u = await sdkSignUp(fx.t);
    await call((cb) => u.qb.logout(cb));
    const appSession = await call<any>((cb) => u.qb.getSession(cb));
    assert.equal(appSession.session.user_id, 0);
    await call((cb) => u.qb.destroySession(cb));
    const gone: SdkError = await call((cb) => u.qb.getSession(cb)).then(() => assert.fail('destroyed'), (e) => e);
    assert.equal(gone.code, 401);
  });

  it('connects to chat with the session token as the password', async () => {
    const u = await sdkSignUp(fx.t);
    await sdkConnectChat(u);
    assert.equal(u.qb.chat.isConnected, true);
    await sdkDisconnect(u, fx.t);
  });
});
