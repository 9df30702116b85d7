// Account changes made over REST reach XMPP: a deleted user's live sessions end and stanzas to it
// are refused without touching storage; a password change ends the user's other REST sessions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { errorCondition, xml } from './support/clients.js';
import { restSession, restUrl } from './support/rest.js';
import { until } from './support/wait.js';

describe('account changes reach XMPP', () => {
  const fx = useServer();

  it('deleting a user over REST ends its live sessions (not-authorized), and later messages to it are refused', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    await bob.available();
    const token = await restSession(fx.t, { login: b.login, password: b.password });
    const res = await fetch(restUrl(fx.t, `/users/${b.id}.json`), { method: 'DELETE', headers: { 'QB-Token': token } });
    assert.equal(res.status, 200);
    await until(() => !fx.t.server.core.sessions.isOnline(bob.jid.split('/')[0]!), 5000, 'bob is disconnected');
    await until(() => bob.errors.some((e) => e.condition === 'not-authorized'), 5000, 'a not-authorized stream error');
    await alice.send(xml('message', { type: 'chat', to: b.jid, id: 'after' }, xml('body', {}, 'are you there?')));
    const reply = await alice.take((el) => el.attrs.id === 'after');
    assert.equal(errorCondition(reply), 'service-unavailable');
    assert.equal(await fx.t.store.offline.count(b.id), 0);
    const again = await fetch(restUrl(fx.t, '/users.json'), { headers: { 'QB-Token': token } });
    assert.equal(again.status, 401, "the deleted user's token is gone");
    await alice.stop();
  });

  it('a user deleted by another process (the CLI) loses its live sessions when the server looks again (SIGHUP)', async () => {
    const u = await fx.t.createUser();
    const client = await fx.pool.connect(u);
    await client.available();
    assert.equal(await fx.t.server.endSessionsOfDeletedAccounts(), 0, 'nobody deleted yet');
    assert.equal(await fx.t.store.accounts.deleteUser(fx.t.app.id, u.id), true);
    assert.equal(fx.t.server.core.sessions.isOnline(client.jid.split('/')[0]!), true, 'the server has not heard of it');
    assert.equal(await fx.t.server.endSessionsOfDeletedAccounts(), 1);
    await until(() => !fx.t.server.core.sessions.isOnline(client.jid.split('/')[0]!), 5000, 'the session is gone');
    await until(() => client.errors.some((e) => e.condition === 'not-authorized'), 5000, 'a not-authorized stream error');
  });

  it("a password change ends the user's other REST sessions and keeps the one that made it", async () => {
    const u = await fx.t.createUser();
    const [kept, other] = [await restSession(fx.t, { login: u.login, password: u.password }), await restSession(fx.t, { login: u.login, password: u.password })];
    const res = await fetch(restUrl(fx.t, `/users/${u.id}.json`), {
      method: 'PUT',
      headers: { 'QB-Token': kept, 'content-type': 'application/json' },
      body: JSON.stringify({ user: { password: 'a-new-password-1', old_password: u.password } }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal((await fetch(restUrl(fx.t, '/users.json'), { headers: { 'QB-Token': kept } })).status, 200);
    assert.equal((await fetch(restUrl(fx.t, '/users.json'), { headers: { 'QB-Token': other } })).status, 401);
  });
});
