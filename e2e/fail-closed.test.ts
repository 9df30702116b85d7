// Fail closed: when a check or a write of the outbound phase fails, the stanza is refused with an
// error and goes no further — never delivered past a check that did not run, never stored offline.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { errorCondition, xml } from './support/clients.js';

describe('fail-closed routing', () => {
  const fx = useServer();

  it('a privacy check that throws refuses the message: an internal-server-error, nothing delivered or kept offline', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice = await fx.pool.connect(a);
    const privacy = fx.t.store.privacy;
    const getDefault = privacy.getDefault;
    privacy.getDefault = async () => {
      throw new Error('privacy store unavailable');
    };
    try {
      await alice.send(xml('message', { type: 'chat', to: b.jid, id: 'p1' }, xml('body', {}, 'unchecked')));
      const reply = await alice.take((el) => el.attrs.id === 'p1');
      assert.equal(reply.attrs.type, 'error');
      assert.equal(errorCondition(reply), 'internal-server-error');
    } finally {
      privacy.getDefault = getDefault;
    }
    assert.equal(await fx.t.store.offline.count(b.id), 0, 'not stored for the offline recipient');
    // With the check working again, the same message goes through to offline storage.
    await alice.send(xml('message', { type: 'chat', to: b.jid, id: 'p2' }, xml('body', {}, 'checked')));
    await alice.ping();
    assert.equal(await fx.t.store.offline.count(b.id), 1);
    await alice.stop();
  });

  it('a history write that throws refuses the message: an internal-server-error, and the online recipient gets nothing', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    const chat = fx.t.server.chat;
    const createMessage = chat.createMessage;
    chat.createMessage = async () => {
      throw new Error('disk full');
    };
    const extra = xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'));
    try {
      await alice.send(xml('message', { type: 'chat', to: b.jid, id: 'h1' }, xml('body', {}, 'not stored'), extra));
      const reply = await alice.take((el) => el.attrs.id === 'h1');
      assert.equal(reply.attrs.type, 'error');
      assert.equal(errorCondition(reply), 'internal-server-error');
    } finally {
      chat.createMessage = createMessage;
    }
    assert.deepEqual(await bob.inbox.drain((el) => el.attrs.id === 'h1', 200), [], 'never delivered');
    await Promise.all([alice.stop(), bob.stop()]);
  });
});
