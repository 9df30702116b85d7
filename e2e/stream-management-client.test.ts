// Stream management with a real client library: @xmpp/client enables XEP-0198 (with resumption)
// on its own when the server offers it. Its sockets are cut under it on every transport.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, type Fixture } from './support/fixture.js';
import type { TestUser } from './support/server.js';
import { withBody, xml, type ConnectOptions, type Conn, type Transport } from './support/clients.js';
import { sleep, withTimeout } from './support/wait.js';

const NS_SM = 'urn:xmpp:sm:3';

/** Drops the client's connection without a word, as a network failure would. */
async function cut(conn: Conn): Promise<void> {
  const disconnected = new Promise((resolve) => conn.xmpp.once('disconnect', resolve));
  const inner = conn.xmpp.socket.socket; // net/tls socket or WebSocket, under @xmpp's wrapper
  if (inner.terminate) inner.terminate();
  else inner.destroy();
  await withTimeout(disconnected, 3000, 'client saw the cut');
}

/** Reconnects as @xmpp/client's reconnect module would; resolves when the stream is resumed. */
async function resume(conn: Conn): Promise<void> {
  const resumed = new Promise((resolve) => conn.xmpp.streamManagement.once('resumed', resolve));
  await conn.xmpp.reconnect.reconnect();
  await withTimeout(resumed, 3000, 'resumed');
}

const bodies = async (conn: Conn, n: number): Promise<string[]> => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await conn.take(withBody, 3000, `message ${i + 1} of ${n}`)).getChildText('body')!);
  return out;
};
/** Lets the client finish counting what it received (its middleware counts a little after delivery). */
const settled = async (conn: Conn): Promise<void> => {
  await conn.ping();
  await sleep(20);
};
/**
 * Connects, waits for stream management to be on, then sends initial presence. (@xmpp/client goes
 * online before its <enable/> is answered and zeroes its count when the answer is processed, so a
 * presence echo arriving in the same read as <enabled/> would go uncounted.)
 */
async function connectSm(fx: Fixture, user: TestUser, opts: ConnectOptions = {}): Promise<Conn> {
  const conn = await fx.pool.connect(user, { ...opts, presence: false });
  for (let i = 0; i < 100 && !conn.xmpp.streamManagement.enabled; i++) await sleep(10);
  assert.equal(conn.xmpp.streamManagement.enabled, true, 'stream management enabled');
  await conn.available();
  return conn;
}
const range = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('stream management with @xmpp/client', () => {
  const fx = useServer({ overrides: { sm_ack_request_every: 0, sm_ack_request_seconds: 0 } });

  it('enables resumable stream management on its own, and every stanza it sends is acknowledged', async () => {
    const alice = await connectSm(fx, await fx.t.createUser());
    const sm = alice.xmpp.streamManagement;
    assert.equal(sm.enabled, true);
    assert.ok(sm.id.length >= 16);
    assert.equal(sm.max, '300');
    const acked: unknown[] = [];
    sm.on('ack', (stanza: { name: string }) => stanza.name === 'message' && acked.push(stanza));
    for (let i = 0; i < 5; i++) await alice.send(xml('message', { type: 'chat', to: alice.user.jid }, xml('body', {}, `n${i}`)));
    assert.deepEqual(await bodies(alice, 5), range(5, 'n'));
    for (let i = 0; i < 100 && acked.length < 5; i++) await sleep(20);
    assert.equal(acked.length, 5, 'the server answered its <r/> for all five');
    assert.equal(sm.outbound_q.length, 0);
  });

  const resumeOver = (transport: Transport) => async () => {
    const alice = await connectSm(fx, await fx.t.createUser(), { transport });
    const bob = await connectSm(fx, await fx.t.createUser(), { transport });
    const send = (from: Conn, to: Conn, list: string[]) => Promise.all(list.map((b) => from.send(xml('message', { type: 'chat', to: to.user.jid, id: b }, xml('body', {}, b)))));
    await send(alice, bob, range(5, 'p'));
    const got = await bodies(bob, 5);
    await settled(bob);
    // The recipient drops: what is sent meanwhile waits on its detached session.
    await cut(bob);
    await send(alice, bob, range(5, 'q'));
    await alice.ping();
    await resume(bob);
    got.push(...(await bodies(bob, 5)));
    // The sender drops before any <a/> for its last messages: <resumed h/> acknowledges them.
    // (Not with writes still pending: @xmpp/client 0.14 queues a stanza for resending only once its
    // write succeeded, so a write cut short is neither queued nor counted, and its resume then fails.)
    await send(alice, bob, range(5, 's'));
    await cut(alice);
    await resume(alice);
    assert.equal(alice.xmpp.streamManagement.outbound_q.length, 0, 'everything acknowledged by <resumed h/>');
    got.push(...(await bodies(bob, 5)));
    await sleep(200);
    assert.deepEqual(got, [...range(5, 'p'), ...range(5, 'q'), ...range(5, 's')]);
    assert.deepEqual(bob.inbox.items.filter(withBody).map(String), [], 'nothing twice');
    // The resumed streams work both ways.
    await bob.send(xml('message', { type: 'chat', to: alice.jid }, xml('body', {}, 'back')));
    assert.equal((await alice.take(withBody)).getChildText('body'), 'back');
  };
  it('resumes over TCP (STARTTLS): every message once, in order', resumeOver('tcp'));
  it('resumes over direct TLS', resumeOver('tls'));
  it('resumes over WebSocket', resumeOver('ws'));

  it('without resumption: the next login gets what the dropped session had not acknowledged, once, and nothing it had', async () => {
    const alice = await connectSm(fx, await fx.t.createUser());
    const bobUser = await fx.t.createUser();
    const bob = await connectSm(fx, bobUser, { resource: 'phone' });
    const send = (list: string[]) => Promise.all(list.map((b) => alice.send(xml('message', { type: 'chat', to: bobUser.jid }, xml('body', {}, b)))));
    await send(range(3, 'u'));
    assert.deepEqual(await bodies(bob, 3), range(3, 'u'));
    await settled(bob);
    await bob.send(xml('a', { xmlns: NS_SM, h: String(bob.xmpp.streamManagement.inbound) }));
    await bob.ping();
    await cut(bob);
    await send(range(3, 'v'));
    await alice.ping();
    // A new client, same resource: it replaces the detached session instead of resuming it.
    const again = await connectSm(fx, bobUser, { resource: 'phone' });
    assert.deepEqual(await bodies(again, 3), range(3, 'v'));
    await sleep(200);
    assert.deepEqual(again.inbox.items.filter(withBody).map(String), []);
    assert.equal(await fx.t.store.offline.count(bobUser.id), 3, 'kept until acknowledged');
    await again.send(xml('a', { xmlns: NS_SM, h: String(again.xmpp.streamManagement.inbound) }));
    await again.ping();
    assert.equal(await fx.t.store.offline.count(bobUser.id), 0);
  });

  it('a detached session still counts as online: presence stays, then goes when it expires or is replaced', async () => {
    const watcher = await connectSm(fx, await fx.t.createUser());
    const user = await fx.t.createUser();
    const first = await connectSm(fx, user, { resource: 'a' });
    await cut(first);
    // Messages to the bare JID go to the detached session (and come back on resumption).
    await watcher.send(xml('message', { type: 'chat', to: user.jid }, xml('body', {}, 'while away')));
    await watcher.ping();
    assert.equal(fx.t.server.core.sessions.isOnline(user.jid), true);
    await resume(first);
    assert.equal((await first.take(withBody)).getChildText('body'), 'while away');
  });
});

