// Privacy lists across two nodes sharing one store and one Redis (PARLEY_TEST_REDIS_URL): a list in
// active in the recipient's session keeps messages from senders on the other node from her; a default
// list stored on one node applies on the other within the freshness window of its cached default lists (5 s).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientPool, errorCondition, xml, type Conn, type XEl } from './support/clients.js';
import { useCluster, withoutRedis } from './support/cluster.js';
import type { TestUser } from './support/server.js';
import { sleep } from './support/wait.js';

const NS_PRIVACY = 'jabber:iq:privacy';
/** The privacy module reads a cached default list again once it is this old (DEFAULT_LIST_FRESH_MS). */
const DEFAULT_FRESH_MS = 5_000;

describe('privacy lists across nodes', { skip: withoutRedis }, () => {
  const pools: ClientPool[] = [];
  const cluster = useCluster(['n1', 'n2'], 'links', {}, { beforeStop: () => Promise.all(pools.map((p) => p.stopAll())).then(() => undefined) });
  const nodes = cluster.nodes;
  before(() => {
    for (const node of nodes) pools.push(new ClientPool(node));
  });

  const privacy = (conn: Conn, ...children: XEl[]) => conn.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_PRIVACY }, ...children)));
  const blocking = (name: string, user: TestUser): XEl =>
    xml('list', { name }, xml('item', { type: 'jid', value: user.jid, action: 'deny', order: '1' }, xml('message')));
  /** Sends a chat message and returns the error condition it drew within `ms`, or undefined when none came. */
  const attempt = async (from: Conn, to: TestUser, id: string, ms = 300): Promise<string | undefined> => {
    await from.send(xml('message', { type: 'chat', to: to.jid, id }, xml('body', {}, `msg ${id}`)));
    const [reply] = await from.inbox.drain((el) => el.attrs.id === id && el.attrs.type === 'error', ms);
    return reply ? errorCondition(reply) : undefined;
  };

  it("a list active only in the recipient's session, on another node, keeps the sender's messages from her", async () => {
    const [a, b, c] = [await nodes[0]!.createUser(), await nodes[0]!.createUser(), await nodes[0]!.createUser()];
    const alice = await pools[0]!.connect(a);
    const bob = await pools[1]!.connect(b);
    assert.equal(await attempt(bob, a, 'open'), undefined);
    await alice.take((el) => el.attrs.id === 'open');
    await privacy(alice, blocking('no-bob', b));
    await privacy(alice, xml('active', { name: 'no-bob' }));
    // The sending node judges by Alice's default list (none); her node's outgoing filter drops it.
    // (So Bob learns of no block: see docs/cluster.md, "Privacy".)
    await bob.send(xml('message', { type: 'chat', to: a.jid, id: 'shut' }, xml('body', {}, 'msg shut')));
    // Carol, on Bob's node, writes after him: once hers arrived, Bob's had its chance.
    const carol = await pools[1]!.connect(c);
    await carol.send(xml('message', { type: 'chat', to: a.jid, id: 'later' }, xml('body', {}, 'msg later')));
    await alice.take((el) => el.attrs.id === 'later');
    assert.deepEqual(await alice.inbox.drain((el) => el.attrs.id === 'shut', 200), [], 'Alice never got it');
    await Promise.all([alice.stop(), bob.stop(), carol.stop()]);
  });

  it('a default list stored on one node applies on the other within the freshness window, and nothing refused is stored', async () => {
    const [a, b] = [await nodes[0]!.createUser(), await nodes[0]!.createUser()];
    const bob = await pools[1]!.connect(b);
    // Alice is offline: n2 judges Bob's message by her default list (none yet), which it now caches.
    assert.equal(await attempt(bob, a, 'before'), undefined);
    const offlineBefore = await nodes[0]!.store.offline.count(a.id);
    assert.equal(offlineBefore, 1);

    const alice = await pools[0]!.connect(a, { presence: false });
    await privacy(alice, blocking('no-bob', b));
    await privacy(alice, xml('default', { name: 'no-bob' }));
    const changedAt = Date.now();
    await alice.stop();

    let refusedAfter: number | undefined;
    let accepted = 0;
    for (let i = 0; refusedAfter === undefined && Date.now() - changedAt < DEFAULT_FRESH_MS + 3_000; i++) {
      if ((await attempt(bob, a, `try-${i}`, 150)) === 'service-unavailable') refusedAfter = Date.now() - changedAt;
      else accepted++;
      await sleep(100);
    }
    assert.notEqual(refusedAfter, undefined, `n2 still accepts messages for Alice ${DEFAULT_FRESH_MS + 3_000} ms after her default list changed`);
    assert.ok(refusedAfter! <= DEFAULT_FRESH_MS + 1_500, `refused only after ${refusedAfter} ms`);
    // Once refused, refused for good, and only what n2 accepted before that is stored for Alice.
    for (let i = 0; i < 3; i++) assert.equal(await attempt(bob, a, `after-${i}`), 'service-unavailable');
    assert.equal(await nodes[0]!.store.offline.count(a.id), offlineBefore + accepted);
    await bob.stop();
  });
});
