// Stream management (XEP-0198) with raw sockets: every exchange byte by byte, connections cut at
// chosen points (before <a/>, after <a/>, mid-stanza, during resumption), with and without resumption.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, type Fixture } from './support/fixture.js';
import { NS_SASL, plainAuth, streamError, type RawClient } from './support/raw.js';
import { NS_SM, SmRaw } from './support/sm.js';
import type { TestUser } from './support/server.js';
import { sleep } from './support/wait.js';

const failedWith = (condition: string): RegExp => new RegExp(`<failed xmlns="${NS_SM}"[^>]*>\\s*<${condition} `);
const range = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A plain (no stream management) sender, logged in. */
async function sender(fx: Fixture, user?: TestUser): Promise<{ raw: RawClient; jid: string }> {
  const u = user ?? (await fx.t.createUser());
  const raw = await fx.raws.connect(fx.t.server.ports.c2s);
  return { raw, jid: await raw.login(u.username, u.password) };
}

/** Sends chats from `from` and waits (ping round trip) until the server processed them all. */
async function sendAll(from: RawClient, to: string, bodies: string[]): Promise<void> {
  for (const b of bodies) from.send(`<message type="chat" to="${to}" id="${b}"><body>${b}</body></message>`);
  const id = `ping-${Math.random().toString(36).slice(2)}`;
  from.send(`<iq type="get" id="${id}"><ping xmlns="urn:xmpp:ping"/></iq>`);
  await from.expect(new RegExp(`id="${id}"`));
}

const waitFor = async (what: () => boolean, label: string, ms = 3000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await sleep(10);
  }
};

describe('stream management: negotiation and counting', () => {
  const fx = useServer({ overrides: { sm_ack_request_every: 3, sm_ack_request_seconds: 0 } });
  const port = () => fx.t.server.ports.c2s;

  it('advertises <sm/> after authentication only; enable with resume gets an id and max', async () => {
    const user = await fx.t.createUser();
    const raw = await fx.raws.connect(port());
    assert.doesNotMatch(await raw.open(), /urn:xmpp:sm:3/);
    raw.send(plainAuth('', user.username, user.password));
    await raw.expect(/<success/);
    assert.match(await raw.open(), /<sm xmlns="urn:xmpp:sm:3"\/>/);
    raw.destroy();
    const sm = await new SmRaw(fx.raws, port(), user).login();
    assert.match(sm.raw.received, /<enabled xmlns="urn:xmpp:sm:3" id="[\w-]{16,}" resume="true" max="300"\/>/);
    const plain = await new SmRaw(fx.raws, port(), user, 'noresume').login({ resume: false });
    assert.match(plain.raw.received, /<enabled xmlns="urn:xmpp:sm:3"\/>/);
  });

  it('answers <r/> with the exact count of stanzas handled, iq and presence included', async () => {
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    assert.equal(await bob.request(), 1, 'initial presence');
    bob.raw.send('<iq type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>');
    bob.raw.send(bob.chat(bob.jid, 'self'));
    bob.raw.send('<presence><status>here</status></presence>');
    assert.equal(await bob.request(), 4);
  });

  it('acknowledges a message to an offline user only once it is in offline storage', async () => {
    const alice = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const bob = await fx.t.createUser();
    alice.raw.send(alice.chat(bob.jid, 'durable'));
    const h = await alice.request();
    // At the moment <a/> arrives, the message is stored (SQLite, synchronous=FULL).
    assert.equal(h, 2);
    assert.equal(await fx.t.store.offline.count(bob.id), 1);
  });

  it('asks <r/> itself after N unacknowledged stanzas, and the client answer acknowledges them', async () => {
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const alice = await sender(fx);
    await sendAll(alice.raw, bob.jid, ['r1', 'r2']);
    await bob.raw.expect(/<r xmlns="urn:xmpp:sm:3"\/>/); // presence echo + 2 messages = 3
    assert.equal(bob.bodies().length, 2);
    bob.ack();
    bob.cut();
    await sleep(100);
    // Acknowledged: nothing goes to offline storage when the session ends.
    const again = await new SmRaw(fx.raws, port(), bob.user).login({ resume: false });
    assert.equal(await again.request(), 1);
    await sleep(200);
    assert.deepEqual(again.bodies(), []);
  });

  it('refuses what the XEP forbids with its errors, and keeps serving', async () => {
    const user = await fx.t.createUser();
    // <enable/> and <resume/> before authentication.
    const early = await fx.raws.connect(port());
    await early.open();
    early.send(`<enable xmlns="${NS_SM}"/>`);
    await early.expect(failedWith('unexpected-request'));
    early.send(`<resume xmlns="${NS_SM}" previd="x" h="0"/>`);
    await early.expect(failedWith('unexpected-request'));
    // <enable/> before binding.
    const sm = new SmRaw(fx.raws, port(), user);
    const unbound = await sm.authenticate();
    unbound.send(`<enable xmlns="${NS_SM}"/>`);
    await unbound.expect(failedWith('unexpected-request'));
    // <enable/> twice; <resume/> after binding; a resume with a bad h.
    const bob = await new SmRaw(fx.raws, port(), user, 'twice').login();
    bob.raw.send(`<enable xmlns="${NS_SM}" resume="true"/>`);
    await bob.raw.expect(failedWith('unexpected-request'));
    bob.raw.send(`<resume xmlns="${NS_SM}" previd="${bob.id}" h="0"/>`);
    await bob.raw.expect(failedWith('unexpected-request'));
    const bad = await sm.authenticate();
    bad.send(`<resume xmlns="${NS_SM}" previd="${bob.id}" h="-1"/>`);
    await bad.expect(failedWith('bad-request'));
    // An unknown id.
    bad.send(`<resume xmlns="${NS_SM}" previd="no-such-id" h="0"/>`);
    await bad.expect(failedWith('item-not-found'));
    // <a/> with a low h, or none, is tolerated; <r/> still answered.
    bob.raw.send(`<a xmlns="${NS_SM}" h="0"/><a xmlns="${NS_SM}"/><a xmlns="${NS_SM}" h="x"/>`);
    assert.equal(await bob.request(), 1);
    // <r/> without stream management is a stream error.
    const plain = await sender(fx);
    plain.raw.send(`<r xmlns="${NS_SM}"/>`);
    await plain.raw.expect(streamError('unsupported-stanza-type'));
    await plain.raw.waitClosed();
    // An h above what was sent: undefined-condition with handled-count-too-high (XEP-0198 §4).
    bob.raw.send(`<a xmlns="${NS_SM}" h="99"/>`);
    await bob.raw.expect(/<stream:error[^>]*><undefined-condition [^>]*\/><text[^>]*>[^<]*<\/text><handled-count-too-high xmlns="urn:xmpp:sm:3" h="99" send-count="\d+"\/><\/stream:error>/);
    await bob.raw.waitClosed();
    // Still serving.
    assert.equal(await (await new SmRaw(fx.raws, port(), user, 'after').login()).request(), 1);
    void NS_SASL;
  });

  it('tolerates a client whose h skips the messages it receives (the QuickBlox SDK) without redelivering', async () => {
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser(), 'qb').login({ resume: false });
    const alice = await sender(fx);
    // The SDK answers every <r/> with h = the presences and IQs it got (here: its own presence echo).
    let answered = 0;
    const answer = (): void => {
      const asks = (bob.raw.received.match(/<r xmlns="urn:xmpp:sm:3"\/>/g) ?? []).length;
      for (; answered < asks; answered++) bob.ack(1);
    };
    // Presence echo + 14 messages: the server asks after every third stanza, the last time after all of them.
    for (let round = 0; round < 5; round++) {
      const n = round < 4 ? 3 : 2;
      await sendAll(alice.raw, bob.jid, range(n, `qb${round}-`));
      await waitFor(() => bob.bodies().length === 3 * round + n, 'messages');
      await sleep(20);
      answer();
    }
    assert.equal(answered, 5);
    assert.equal(await bob.request(), 1, 'still connected: its own count is exact');
    bob.raw.send('</stream:stream>');
    await bob.raw.waitClosed();
    await sleep(100);
    assert.equal(await fx.t.store.offline.count(bob.user.id), 0, 'answered <r/> confirmed what came before it: nothing redelivered');
  });
});

describe('stream management: cuts and resumption', () => {
  const fx = useServer({ overrides: { sm_ack_request_every: 0, sm_ack_request_seconds: 0 } });
  const port = () => fx.t.server.ports.c2s;

  it('sender cut before <a/>: <resumed h/> says what the server handled; resending the rest delivers each once, in order', async () => {
    const alice = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const bodies = range(20, 'a');
    const before = 1; // presence
    for (const b of bodies) alice.raw.send(alice.chat(bob.jid, b));
    await waitFor(() => bob.bodies().length >= 5, 'some messages through');
    alice.cut(); // no <a/> seen
    const resumed = await alice.resume();
    const handled = Number(/ h="(\d+)"/.exec(resumed)![1]) - before;
    assert.match(resumed, new RegExp(`previd="${alice.id}"`));
    for (const b of bodies.slice(handled)) alice.raw.send(alice.chat(bob.jid, b));
    assert.equal(await alice.request(), before + bodies.length);
    await waitFor(() => bob.bodies().length >= bodies.length, 'all messages');
    await sleep(100);
    assert.deepEqual(bob.bodies(), bodies);
  });

  it('sender cut mid-stanza: the partial message is not counted and is resent', async () => {
    const alice = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    alice.raw.send(alice.chat(bob.jid, 'whole'));
    alice.raw.send(`<message type="chat" to="${bob.jid}" id="half"><body>ha`);
    await waitFor(() => bob.bodies().length === 1, 'the whole message');
    alice.cut();
    const resumed = await alice.resume();
    assert.match(resumed, / h="2"/, 'presence + the whole message');
    alice.raw.send(alice.chat(bob.jid, 'half'));
    await waitFor(() => bob.bodies().length === 2, 'the resent message');
    assert.deepEqual(bob.bodies(), ['whole', 'half']);
  });

  it('recipient cut before and after <a/>: resumption resends exactly the unacknowledged stanzas, in order', async () => {
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const alice = await sender(fx);
    await sendAll(alice.raw, bob.jid, range(5, 'b'));
    await waitFor(() => bob.bodies().length === 5, 'first five');
    bob.ack(); // after <a/> for these five...
    await sendAll(alice.raw, bob.jid, range(5, 'c'));
    await waitFor(() => bob.bodies().length === 10, 'next five');
    bob.cut(); // ...but before <a/> for the next five
    await sendAll(alice.raw, bob.jid, range(5, 'd')); // while detached
    const resumed = await bob.resume(bob.h - 2); // claim two fewer than received: those two come again
    assert.match(resumed, / h="1"/);
    const expected = [...range(5, 'b'), ...range(5, 'c'), ...range(5, 'd')];
    await waitFor(() => bob.bodies().length >= 17, 'resent and queued');
    await sleep(100);
    const got = bob.bodies();
    // The two it did not acknowledge come again; after them everything once, in order.
    assert.deepEqual(got.slice(0, 8), expected.slice(0, 8));
    assert.deepEqual(got.slice(10), expected.slice(8));
    // The old connection is gone, and the session lives on the new one.
    await sendAll(alice.raw, bob.jid, ['e0']);
    await waitFor(() => bob.bodies().at(-1) === 'e0', 'live after resume');
  });

  it('cut during resumption: a second resumption still delivers everything once', async () => {
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const alice = await sender(fx);
    await sendAll(alice.raw, bob.jid, range(3, 'f'));
    await waitFor(() => bob.bodies().length === 3, 'three');
    bob.cut();
    await sendAll(alice.raw, bob.jid, range(3, 'g'));
    // Resume, and cut right after sending <resume/> without reading the answer.
    const raw = await bob.authenticate();
    raw.send(`<resume xmlns="${NS_SM}" previd="${bob.id}" h="${bob.h}"/>`);
    raw.destroy();
    await sleep(100);
    await sendAll(alice.raw, bob.jid, range(3, 'h'));
    const resumed = await bob.resume();
    assert.match(resumed, /<resumed /);
    await waitFor(() => bob.bodies().length >= 9, 'all nine');
    await sleep(100);
    assert.deepEqual(bob.bodies(), [...range(3, 'f'), ...range(3, 'g'), ...range(3, 'h')]);
  });

  it('resuming while the old connection still looks open closes it; a second resume of the same id fails', async () => {
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const old = bob.raw;
    const alice = await sender(fx);
    await sendAll(alice.raw, bob.jid, ['o1']);
    await waitFor(() => bob.bodies().length === 1, 'o1');
    const resumed = await bob.resume(1); // the presence echo only: o1 comes again
    assert.match(resumed, / h="1"/);
    await old.waitClosed();
    await waitFor(() => bob.bodies().length === 2, 'o1 resent');
    assert.deepEqual(bob.bodies(), ['o1', 'o1']);
    // The id now lives on the new connection; claiming more than was sent fails and ends that session.
    const live = bob.raw;
    const again = await bob.authenticate();
    again.send(`<resume xmlns="${NS_SM}" previd="${bob.id}" h="999"/>`);
    await again.expect(/<failed xmlns="urn:xmpp:sm:3" h="\d+"><undefined-condition [^>]*\/><handled-count-too-high xmlns="urn:xmpp:sm:3" h="999" send-count="\d+"\/><\/failed>/);
    await live.waitClosed();
  });

  it('without resumption: a fresh login gets every unacknowledged message once, from offline storage, and no acknowledged one', async () => {
    const user = await fx.t.createUser();
    const bob = await new SmRaw(fx.raws, port(), user, 'phone').login();
    const alice = await sender(fx);
    await sendAll(alice.raw, bob.jid, range(3, 'k'));
    await waitFor(() => bob.bodies().length === 3, 'three');
    bob.ack();
    await sendAll(alice.raw, bob.jid, range(3, 'm'));
    await waitFor(() => bob.bodies().length === 6, 'six');
    bob.cut();
    await sendAll(alice.raw, bob.jid, ['n0']); // queued on the detached session
    // A new session with the same resource replaces the detached one; what it held goes offline.
    const again = await new SmRaw(fx.raws, port(), user, 'phone').login({ resume: false });
    await waitFor(() => again.bodies().length >= 4, 'redelivered');
    await sleep(150);
    assert.deepEqual(again.bodies(), ['m0', 'm1', 'm2', 'n0']);
    again.ack();
    await sleep(50);
    assert.equal(await fx.t.store.offline.count(user.id), 0, 'acknowledged offline messages are deleted');
  });

  it('offline messages are deleted only once acknowledged; unacknowledged ones come again at the next login', async () => {
    const user = await fx.t.createUser();
    const alice = await sender(fx);
    await sendAll(alice.raw, user.jid, range(3, 'o'));
    assert.equal(await fx.t.store.offline.count(user.id), 3);
    const first = await new SmRaw(fx.raws, port(), user).login({ resume: false });
    await waitFor(() => first.bodies().length === 3, 'flushed');
    await sleep(50);
    assert.equal(await fx.t.store.offline.count(user.id), 3, 'written is not delivered');
    first.ack(first.h - 1); // the first two
    await sleep(50);
    assert.equal(await fx.t.store.offline.count(user.id), 1);
    first.cut();
    await sleep(100);
    const second = await new SmRaw(fx.raws, port(), user).login({ resume: false });
    await waitFor(() => second.bodies().length === 1, 'the unacknowledged one');
    assert.deepEqual(second.bodies(), ['o2']);
  });
});

describe('stream management: expiry and server requests by time', () => {
  const fx = useServer({ overrides: { sm_resume_timeout: 1, sm_ack_request_every: 0, sm_ack_request_seconds: 1, sm_max_unacked: 50 } });
  const port = () => fx.t.server.ports.c2s;

  it('asks <r/> after T seconds', async () => {
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const started = Date.now();
    await bob.raw.expect(/<r xmlns="urn:xmpp:sm:3"\/>/, 3000);
    assert.ok(Date.now() - started >= 800);
  });

  it('an expired id fails with item-not-found and the h it had; its messages wait in offline storage', async () => {
    const bob = await new SmRaw(fx.raws, port(), await fx.t.createUser()).login();
    const alice = await sender(fx);
    bob.raw.send(bob.chat(bob.jid, 'to myself'));
    await waitFor(() => bob.bodies().length === 1, 'own message');
    bob.ack();
    await sleep(50);
    bob.cut();
    await sendAll(alice.raw, bob.jid, ['x0', 'x1']);
    await sleep(1500);
    assert.match(await bob.resume(), /<failed xmlns="urn:xmpp:sm:3" h="2"><item-not-found /);
    const again = await new SmRaw(fx.raws, port(), bob.user, 'again').login();
    await waitFor(() => again.bodies().length >= 2, 'offline');
    await sleep(100);
    assert.deepEqual(again.bodies(), ['x0', 'x1']);
  });

  it('a session past the unacknowledged cap ends with resource-constraint and loses nothing', async () => {
    const t = fx.t;
    const cap = t.config.sm_max_unacked;
    const bob = await new SmRaw(fx.raws, port(), await t.createUser()).login({ resume: false });
    const alice = await sender(fx);
    const bodies = range(cap + 5, 'cap');
    for (const b of bodies) alice.raw.send(`<message type="chat" to="${bob.jid}"><body>${b}</body></message>`);
    await bob.raw.expect(streamError('resource-constraint'), 5000);
    await bob.raw.waitClosed();
    await sleep(300);
    const again = await new SmRaw(fx.raws, port(), bob.user).login({ resume: false });
    await waitFor(() => again.bodies().length >= bodies.length, 'all of them again', 5000);
    assert.deepEqual(again.bodies(), bodies);
  });
});
