// XMPP login with a REST session token as the password, as the QuickBlox SDKs do it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { rawClient, stopClient } from './support/clients.js';
import { restSession, restUrl } from './support/rest.js';
import { withTimeout } from './support/wait.js';

describe('XMPP authentication with REST session tokens', () => {
  const fx = useServer();

  const loginFails = async (user: { username: string }, password: string, mechanism: 'PLAIN' | 'SCRAM-SHA-1') => {
    const xmpp = fx.pool.track(rawClient(fx.t, { username: user.username, password }, { mechanism, password }));
    xmpp.on('error', () => {});
    const err: any = await withTimeout(xmpp.start().then(() => null, (e: any) => e), 5000, 'start');
    await stopClient(xmpp);
    return err?.condition;
  };

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-1'] as const) {
    it(`accepts the user's own session token (${mechanism})`, async () => {
      const user = await fx.t.createUser();
      const token = await restSession(fx.t, { login: user.login, password: user.password });
      const client = await fx.pool.connect({ ...user, password: token }, { mechanism, presence: false });
      await client.ping();
      await client.stop();
    });
  }

  it('refuses an application token, another user\'s token, another application\'s token and a destroyed token', async () => {
    const alice = await fx.t.createUser();
    const bob = await fx.t.createUser();
    const otherApp = await fx.t.createApp();
    const stranger = await fx.t.createUser(undefined, undefined, otherApp);
    const appToken = await restSession(fx.t);
    const bobToken = await restSession(fx.t, { login: bob.login, password: bob.password });
    const strangerToken = await restSession(fx.t, { login: stranger.login, password: stranger.password }, otherApp);
    assert.equal(await loginFails(alice, appToken, 'PLAIN'), 'not-authorized');
    assert.equal(await loginFails(alice, bobToken, 'PLAIN'), 'not-authorized');
    assert.equal(await loginFails(alice, bobToken, 'SCRAM-SHA-1'), 'not-authorized');
    assert.equal(await loginFails({ username: `${stranger.id}-${fx.t.app.id}` }, strangerToken, 'PLAIN'), 'not-authorized');

    const aliceToken = await restSession(fx.t, { login: alice.login, password: alice.password });
    const del = await fetch(restUrl(fx.t, '/session.json'), { method: 'DELETE', headers: { 'qb-token': aliceToken } });
    assert.equal(del.status, 200);
    assert.equal(await loginFails(alice, aliceToken, 'PLAIN'), 'not-authorized');
    assert.equal(await loginFails(alice, aliceToken, 'SCRAM-SHA-1'), 'not-authorized');
  });
});
