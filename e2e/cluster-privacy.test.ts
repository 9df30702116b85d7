// Privacy lists across two nodes sharing one store and one Redis (PARLEY_TEST_REDIS_URL): a list
// active only in the recipient's session (published with her location) refuses a message from a
// sender on the other node as on one node (service-unavailable, nothing stored); a default list stored
// on one node applies on the other within the freshness window of its cached default lists (5 s).
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
  /**
   * A session's list reaches the other node with the registry's change notice, a moment after the IQ
   * is answered: probes (not stored) until `from`'s messages draw `condition` (undefined: none), and
   * returns the id of the probe that did.
   */
  const untilJudged = async (from: Conn, to: TestUser, label: string, condition: string | undefined): Promise<string> => {
    const deadline = Date.now() + 3_000;
    for (let i = 0; ; i++) {
      const id = `${label}-${i}`;
      if ((await attempt(from, to, id, 150)) === condition) return id;
      assert.ok(Date.now() < deadline, `${label}: the other node did not judge by the new list within 3 s`);
    }
  };

  it("a list active only in the recipient's session, on another node, refuses the sender's message as on one node: an error, nothing stored", async () => {
    const [a, b, c] = [await nodes[0]!.createUser(), await nodes[0]!.createUser(), await nodes[0]!.createUser()];
    const alice = await pools[0]!.connect(a);
    const bob = await pools[1]!.connect(b);
    const carol = await pools[1]!.connect(c);
    assert.equal(await attempt(bob, a, 'open'), undefined);
    await alice.take((el) => el.attrs.id === 'open');
    await privacy(alice, blocking('no-bob', b));
    await privacy(alice, xml('active', { name: 'no-bob' }));
    // The list travels with Alice's location in the registry: Bob's node refuses before storing.
    await untilJudged(bob, a, 'probe', 'service-unavailable');
    const id = '0123456789abcdef0123abcd';
    await bob.send(xml('message', { type: 'chat', to: a.jid, id },
      xml('body', {}, 'stored?'), xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'))));
    assert.equal(errorCondition(await bob.take((el) => el.attrs.id === id)), 'service-unavailable');
    assert.equal(await nodes[0]!.store.chat.getMessage(nodes[0]!.app.id, id), null, 'nothing stored');
    assert.equal(await nodes[0]!.store.chat.findPrivateDialog(nodes[0]!.app.id, a.id, b.id), null, 'no dialog created');
    // Carol, whom the list does not name, still reaches her.
    assert.equal(await attempt(carol, a, 'carol'), undefined);
    await alice.take((el) => el.attrs.id === 'carol');

    // A second resource of Alice's without the list (on Bob's node): partly blocked, so it passes and
    // only the resource that blocks it goes without, as on one node.
    const alice2 = await pools[1]!.connect(a);
    assert.equal(await attempt(bob, a, 'partly'), undefined);
    await alice2.take((el) => el.attrs.id === 'partly');
    assert.deepEqual(await alice.inbox.drain((el) => el.attrs.id === 'partly', 200), [], 'the blocking resource never got it');
    await alice2.stop();

    // Declining the list (no list in force) travels too: Bob reaches her again.
    await privacy(alice, xml('active'));
    const through = await untilJudged(bob, a, 'declined', undefined);
    await alice.take((el) => el.attrs.id === through);
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
