// Offline storage (XEP-0160) with XEP-0203 delay stamps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { isMessage, withBody, xml } from './support/clients.js';
import { sleep } from './support/wait.js';

const NS_DELAY = 'urn:xmpp:delay';

describe('offline messages', () => {
  const fx = useServer();

  it('stores chat messages with a body for an offline user and delivers them once, in order, with a delay', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    const bob = await fx.t.createUser();
    const before = Date.now() - 1000;
    const bodies = ['first <1>', 'second & 2 — ✓', 'third: Привет 🎉'];
    for (const [i, body] of bodies.entries()) await alice.send(xml('message', { type: 'chat', to: bob.jid, id: `off${i}` }, xml('body', {}, body)));
    await alice.send(xml('message', { type: 'chat', to: bob.jid, id: 'state' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    await alice.send(xml('message', { type: 'headline', to: bob.jid, id: 'news' }, xml('body', {}, 'headline news')));
    await alice.ping(); // everything above has been processed (and stored) by now
    assert.deepEqual(await alice.inbox.drain(isMessage, 100), [], 'no error bounces for the offline user');

    const first = await fx.pool.connect(bob, { presence: false });
    assert.deepEqual(await first.inbox.drain(isMessage, 200), [], 'nothing before initial presence');
    await first.available();
    for (const [i, body] of bodies.entries()) {
      const msg = await first.take(isMessage);
      assert.equal(msg.attrs.id, `off${i}`);
      assert.equal(msg.attrs.type, 'chat');
      assert.equal(msg.attrs.from, alice.jid);
      assert.equal(msg.getChildText('body'), body);
      const delay = msg.getChild('delay', NS_DELAY);
      assert.ok(delay, `message ${i} has a <delay xmlns="${NS_DELAY}">: ${msg}`);
      assert.match(delay.attrs.stamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      const stamp = Date.parse(delay.attrs.stamp!);
      assert.ok(stamp >= before && stamp <= Date.now(), `stamp ${delay.attrs.stamp} is when it was stored`);
    }
    assert.deepEqual((await first.inbox.drain(isMessage, 300)).map(String), [], 'exactly three: no chat state, no headline');
    await first.stop();

    const second = await fx.pool.connect(bob);
    assert.deepEqual((await second.inbox.drain(isMessage, 300)).map(String), [], 'delivered messages are gone');
    // And live messages are not delayed.
    await alice.send(xml('message', { type: 'chat', to: bob.jid }, xml('body', {}, 'live')));
    const live = await second.take(withBody);
    assert.equal(live.getChildText('body'), 'live');
    assert.equal(live.getChild('delay', NS_DELAY), undefined);
    await Promise.all([alice.stop(), second.stop()]);
  });

  it('a chat to the full JID of a resource that went away is stored too', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    const bob = await fx.t.createUser();
    const gone = await fx.pool.connect(bob, { resource: 'phone' });
    await gone.stop();
    await sleep(300); // let the server see the connection go (see the next test for the window before that)
    await alice.send(xml('message', { type: 'chat', to: `${bob.jid}/phone` }, xml('body', {}, 'are you there?')));
    await alice.ping();
    const back = await fx.pool.connect(bob, { resource: 'laptop' });
    const msg = await back.take(withBody);
    assert.equal(msg.getChildText('body'), 'are you there?');
    assert.ok(msg.getChild('delay', NS_DELAY));
    await Promise.all([alice.stop(), back.stop()]);
  });

  it('a chat sent while the recipient stream is closing is stored, not lost', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    const bob = await fx.t.createUser();
    // Bob closes his stream but his TCP connection lingers (half-open) — as on a slow network.
    const raw = await fx.raws.connect(fx.t.server.ports.c2s, { allowHalfOpen: true });
    await raw.login(bob.username, bob.password, 'closing');
    raw.send('</stream:stream>');
    await raw.expect('</stream:stream>');
    // The stream is over: a message now must not go to that session.
    await alice.send(xml('message', { type: 'chat', to: bob.jid, id: 'late' }, xml('body', {}, 'sent after Bob closed his stream')));
    await alice.ping();
    raw.destroy();
    await sleep(300);
    const back = await fx.pool.connect(bob);
    const msg = await back.take(withBody, 2000, 'the message sent during the close (stored offline)');
    assert.equal(msg.attrs.id, 'late');
    await Promise.all([alice.stop(), back.stop()]);
  });
});
