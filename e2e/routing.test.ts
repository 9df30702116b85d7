// Routing limits: unknown users and users of other applications get service-unavailable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { errorCondition, isMessage, xml } from './support/clients.js';

describe('routing', () => {
  const fx = useServer();

  const isError = (el: { name: string; attrs: Record<string, string> }): boolean => el.name === 'message' && el.attrs.type === 'error';

  it('a message to an unknown user bounces with service-unavailable', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    const nobody = `999999-${fx.t.app.id}@${fx.t.domain}`;
    await alice.send(xml('message', { type: 'chat', to: nobody, id: 'u1' }, xml('body', {}, 'hello?')));
    const err = await alice.take(isError);
    assert.equal(err.attrs.id, 'u1');
    assert.equal(err.attrs.from, nobody);
    assert.equal(err.attrs.to, alice.jid);
    assert.equal(errorCondition(err), 'service-unavailable');
    assert.equal(err.getChild('error')?.attrs.type, 'cancel');
    await alice.stop();
  });

  it('an IQ to an unknown user (bare and full JID) gets service-unavailable', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    for (const to of [`999999-${fx.t.app.id}@${fx.t.domain}`, `999999-${fx.t.app.id}@${fx.t.domain}/res`]) {
      await assert.rejects(alice.iq(xml('iq', { type: 'get', to }, xml('ping', { xmlns: 'urn:xmpp:ping' }))), (e: any) => {
        assert.equal(e.condition, 'service-unavailable', `for ${to}`);
        return true;
      });
    }
    await alice.stop();
  });

  it('a message to a malformed local part bounces too', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    await alice.send(xml('message', { type: 'chat', to: `not-a-user@${fx.t.domain}`, id: 'u2' }, xml('body', {}, 'x')));
    const err = await alice.take(isError);
    assert.equal(errorCondition(err), 'service-unavailable');
    await alice.stop();
  });

  it('a user of application A cannot reach a user of application B', async () => {
    const appB = await fx.t.createApp();
    const alice = await fx.pool.connect(await fx.t.createUser());
    const bob = await fx.pool.connect(await fx.t.createUser(undefined, undefined, appB));
    await alice.send(xml('message', { type: 'chat', to: bob.user.jid, id: 'x1' }, xml('body', {}, 'across apps')));
    await alice.send(xml('message', { type: 'chat', to: bob.jid, id: 'x2' }, xml('body', {}, 'across apps, full JID')));
    for (const id of ['x1', 'x2']) {
      const err = await alice.take(isError);
      assert.equal(err.attrs.id, id);
      assert.equal(errorCondition(err), 'service-unavailable');
    }
    await assert.rejects(alice.iq(xml('iq', { type: 'get', to: bob.jid }, xml('ping', { xmlns: 'urn:xmpp:ping' }))), (e: any) => e.condition === 'service-unavailable');
    await alice.send(xml('presence', { to: bob.user.jid }));
    await alice.ping();
    assert.deepEqual((await bob.inbox.drain(() => true, 300)).map(String), [], 'B received nothing at all');
    // And B → A is refused the same way; nothing is stored offline for A either.
    await bob.send(xml('message', { type: 'chat', to: alice.user.jid, id: 'x3' }, xml('body', {}, 'back')));
    assert.equal(errorCondition(await bob.take(isError)), 'service-unavailable');
    assert.deepEqual((await alice.inbox.drain(isMessage, 300)).map(String), []);
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('a message to another domain bounces with remote-server-not-found', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    await alice.send(xml('message', { type: 'chat', to: 'someone@example.org', id: 'r1' }, xml('body', {}, 'x')));
    const err = await alice.take(isError);
    assert.equal(errorCondition(err), 'remote-server-not-found');
    await alice.stop();
  });
});
