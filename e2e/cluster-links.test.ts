// Direct node-to-node links (cluster_secret): three nodes on loopback sharing one store and one
// Redis (PARLEY_TEST_REDIS_URL); n1 and n2 share the secret, n3 has another one. Messages between
// n1 and n2 travel over the link, not through Redis; a link that drops hands what the peer did not
// acknowledge to Redis (delivered once, in order); a peer without the secret is refused both ways
// and Redis carries its messages; a peer that dies leaves its unacknowledged messages to offline storage.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHmac } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { TestServer, TestUser } from './support/server.js';
import { REDIS_URL, useCluster, withoutRedis } from './support/cluster.js';
import { ClientPool, withBody, xml, type Conn, type XEl } from './support/clients.js';
import { sleep, until } from './support/wait.js';
import type { RedisCluster } from '../src/cluster/redis.js';
import type { NodeLinks } from '../src/cluster/links.js';

const NS_DELAY = 'urn:xmpp:delay';

const bodyIs = (text: string) => (el: XEl) => withBody(el) && el.getChildText('body') === text;
const linksOf = (node: TestServer): NodeLinks => (node.server.cluster as unknown as { links: NodeLinks }).links;
const outLink = (node: TestServer, peer: string): { socket: Socket | null; state: string } | undefined =>
  (linksOf(node) as unknown as { out: Map<string, { socket: Socket | null; state: string }> }).out.get(peer);

const outLinks = (node: TestServer): Map<string, unknown> => (linksOf(node) as unknown as { out: Map<string, unknown> }).out;

/** Writes one frame (4-byte length, UTF-8). */
const frame = (text: string): Buffer => {
  const body = Buffer.from(text);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
};

describe('cluster links', { skip: withoutRedis }, () => {
  const pools: ClientPool[] = [];
  let watcher: Redis;
  const cluster = useCluster(['n1', 'n2'], 'links', {}, {
    beforeStop: async () => {
      await Promise.all(pools.map((p) => p.stopAll()));
      await watcher.quit();
    },
  });
  const { nodes, stopped, prefix } = cluster;
  /** What Redis pub/sub carried to each node's channel since the watcher subscribed. */
  const published = new Map<string, string[]>();

  before(async () => {
    await cluster.addNode('n3', { cluster_secret: 'not the same secret' });
    for (const node of nodes) pools.push(new ClientPool(node));
    watcher = new Redis(REDIS_URL!);
    watcher.on('message', (channel: string, message: string) => {
      const node = channel.slice(`${prefix}node:`.length);
      published.set(node, [...(published.get(node) ?? []), message]);
    });
    await watcher.subscribe(`${prefix}node:n1`, `${prefix}node:n2`, `${prefix}node:n3`);
  });

  const user = (): Promise<TestUser> => nodes[0]!.createUser();
  const on = (node: number, u: TestUser): Promise<Conn> => pools[node]!.connect(u);
  /** Sends until the link from node `from` to node id `to` is up (the first message dials it, through Redis meanwhile). */
  const warmUp = async (sender: Conn, receiver: Conn, to: string, from: TestServer, peer: string): Promise<void> => {
    for (let i = 0; !linksOf(from).up(peer); i++) {
      assert.ok(i < 100, `a link to ${peer} comes up`);
      await sender.send(xml('message', { type: 'chat', to }, xml('body', {}, `warm ${i}`)));
      await receiver.take(bodyIs(`warm ${i}`));
      await sleep(20);
    }
    // The first batch over the new link follows a fence published through Redis (the warm-up went that way).
    await sender.send(xml('message', { type: 'chat', to }, xml('body', {}, 'warm, over the link')));
    await receiver.take(bodyIs('warm, over the link'));
    await sleep(20);
  };

  it('advertises each node\'s link address in Redis', async () => {
    const links = await cluster.redis.hgetall(`${prefix}links`);
    assert.deepEqual(Object.keys(links).sort(), ['n1', 'n2', 'n3']);
    for (const address of Object.values(links)) assert.match(address, /^127\.0\.0\.1:\d+$/);
  });

  it('carries 1-1 messages over the link, in order, with nothing through Redis', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(1, b);
    await warmUp(alice, bob, b.jid, nodes[0]!, 'n2');
    await warmUp(bob, alice, a.jid, nodes[1]!, 'n1');
    published.clear();
    for (let i = 0; i < 30; i++) await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, `n${i}`)));
    await bob.send(xml('message', { type: 'chat', to: a.jid }, xml('body', {}, 'back over the other link')));
    for (let i = 0; i < 30; i++) {
      const got = await bob.take(withBody);
      assert.equal(got.getChildText('body'), `n${i}`);
      assert.equal(got.getChild('delay', NS_DELAY), undefined, 'live');
    }
    await alice.take(bodyIs('back over the other link'));
    await alice.ping();
    await sleep(50);
    assert.deepEqual(published.get('n2') ?? [], [], 'nothing for n2 through Redis');
    assert.deepEqual(published.get('n1') ?? [], [], 'nothing for n1 through Redis');
  });

  it('a link that drops: what the peer had not acknowledged comes again through Redis and is delivered once, in order; then the link comes back', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(1, b);
    await warmUp(alice, bob, b.jid, nodes[0]!, 'n2');
    // n1 reads no acknowledgements: what it sends now stays unacknowledged, although n2 delivers it.
    outLink(nodes[0]!, 'n2')!.socket!.pause();
    for (let i = 0; i < 10; i++) await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, `d${i}`)));
    for (let i = 0; i < 10; i++) assert.equal((await bob.take(withBody)).getChildText('body'), `d${i}`);
    // Delivered over the link, acknowledgements not read: the link drops.
    published.clear();
    outLink(nodes[0]!, 'n2')!.socket!.destroy();
    for (let i = 10; i < 20; i++) await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, `d${i}`)));
    for (let i = 10; i < 20; i++) assert.equal((await bob.take(withBody)).getChildText('body'), `d${i}`);
    await alice.ping();
    assert.deepEqual((await bob.inbox.drain(withBody, 300)).map((m) => m.getChildText('body')), [], 'no message twice');
    assert.ok((published.get('n2') ?? []).some((m) => m.startsWith('again\n') || m.includes('\nagain\n')), 'the unacknowledged batches went again through Redis');
    assert.ok((published.get('n2') ?? []).length > 0, 'the messages after the drop went through Redis');
    await warmUp(alice, bob, b.jid, nodes[0]!, 'n2');
    published.clear();
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'over the new link')));
    await bob.take(bodyIs('over the new link'));
    assert.deepEqual(published.get('n2') ?? [], []);
  });

  /** n2's Redis subscriber socket: paused, n2 reads nothing from Redis (what goes there waits, published but unread). */
  const n2Subscriber = (): Socket => (nodes[1]!.server.cluster as unknown as { sub: { stream: Socket } }).sub.stream;

  async function dropLink(): Promise<void> {
    outLink(nodes[0]!, 'n2')!.socket!.destroy();
    await until(() => !linksOf(nodes[0]!).up('n2'), 2000, 'the link drops');
  }

  /**
   * Sends `prefix`N, N+1, … from Alice to Bob until n1's link to n2 is up again: it is dialed again by
   * the first message after the retry delay (that one goes through Redis too).
   */
  async function sendUntilLinkBack(alice: Conn, bobJid: string, prefix: string, from = 0): Promise<void> {
    await sleep(600);
    for (let i = from; !linksOf(nodes[0]!).up('n2'); i++) {
      assert.ok(i < 100, 'the link comes back');
      await alice.send(xml('message', { type: 'chat', to: bobJid }, xml('body', {}, `${prefix}${i}`)));
      await alice.ping();
      await sleep(20);
    }
  }

  it('a link that comes back while Redis still holds messages for the peer: they are delivered first, in order', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(1, b);
    await warmUp(alice, bob, b.jid, nodes[0]!, 'n2');
    const subscriber = n2Subscriber();
    subscriber.pause();
    try {
      await dropLink();
      for (let i = 0; i < 5; i++) await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, `o${i}`)));
      await alice.ping();
      await sendUntilLinkBack(alice, b.jid, 'o', 5);
      for (let i = 0; i < 5; i++) await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, `l${i}`)));
      await alice.ping();
      await sleep(150);
    } finally {
      subscriber.resume();
    }
    const bodies: string[] = [];
    for (;;) {
      const got = await bob.take(withBody, 3000, 'the messages');
      bodies.push(got.getChildText('body')!);
      if (bodies.length > 0 && bodies[bodies.length - 1] === 'l4') break;
      assert.ok(bodies.length < 200);
    }
    const sent = bodies.filter((x) => x.startsWith('o'));
    assert.ok(sent.length >= 6, 'some went through Redis');
    assert.deepEqual(bodies, [...sent.map((_, i) => `o${i}`), 'l0', 'l1', 'l2', 'l3', 'l4'], 'Redis\'s first, then the link\'s, each in order');
  });

  it('a fence that does not come out of Redis: the link\'s batches are delivered after a second anyway', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(1, b);
    await warmUp(alice, bob, b.jid, nodes[0]!, 'n2');
    const subscriber = n2Subscriber();
    subscriber.pause();
    try {
      await dropLink();
      await sendUntilLinkBack(alice, b.jid, 'r');
      const since = Date.now();
      await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'over the link')));
      // n2 reads nothing from Redis all along: the fence never comes, and the link does not stall.
      await bob.take(bodyIs('over the link'), 3000, 'delivered without the fence');
      assert.ok(Date.now() - since >= 900, 'held for the fence first');
    } finally {
      subscriber.resume();
    }
    await alice.ping();
    await sleep(200);
    bob.inbox.items.length = 0;
  });

  it('a node with another secret is refused both ways; Redis carries its messages', async () => {
    const [a, c] = [await user(), await user()];
    const alice = await on(0, a);
    const carol = await on(2, c);
    for (let i = 0; i < 5; i++) {
      await alice.send(xml('message', { type: 'chat', to: c.jid }, xml('body', {}, `to n3 ${i}`)));
      await carol.take(bodyIs(`to n3 ${i}`));
      await carol.send(xml('message', { type: 'chat', to: a.jid }, xml('body', {}, `from n3 ${i}`)));
      await alice.take(bodyIs(`from n3 ${i}`));
      await sleep(150);
    }
    assert.equal(linksOf(nodes[0]!).up('n3'), false, 'n1 does not take n3 for a peer');
    assert.equal(linksOf(nodes[2]!).up('n1'), false, 'n1 does not accept n3');
    assert.ok(outLink(nodes[0]!, 'n3'), 'n1 did try');
    assert.ok(outLink(nodes[2]!, 'n1'), 'n3 did try');
  });

  it('a connection that cannot prove the secret is closed before anything it sends is delivered', async () => {
    const b = await user();
    const bob = await on(1, b);
    const address = (await cluster.redis.hget(`${prefix}links`, 'n2'))!;
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    const socket = connect({ host, port });
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('error', () => {});
    const frames: string[] = [];
    socket.on('data', (chunk: Buffer) => frames.push(chunk.subarray(4).toString()));
    const nonce = randomBytes(16).toString('hex');
    socket.write(frame(`hello\nintruder\nn2\n${nonce}`));
    await until(() => frames.length > 0, 5000, 'a challenge');
    assert.match(frames[0]!, /^challenge\n[0-9a-f]{32}\n[0-9a-f]{64}$/);
    const [, listenerNonce] = frames[0]!.split('\n');
    const guess = createHmac('sha256', 'a guess').update(`parley-link\ndialer\nintruder\nn2\n${nonce}\n${listenerNonce}`).digest('hex');
    const stanza = `<message xmlns="jabber:client" type="chat" to="${b.jid}" from="${b.jid}"><body>forged</body></message>`;
    socket.write(Buffer.concat([frame(`proof\n${guess}`), frame(`batch\n1\nintruder\nmessage/bare\n${b.jid}\n${stanza.length}\n${stanza}`)]));
    await closed;
    assert.deepEqual(frames.slice(1), [], 'no "ok"');
    assert.deepEqual(await bob.inbox.drain(withBody, 300), [], 'nothing delivered');
  });

  it('a frame larger than the handshake allows closes the connection at once', async () => {
    const address = (await cluster.redis.hget(`${prefix}links`, 'n2'))!;
    const socket = connect({ host: '127.0.0.1', port: Number(address.slice(address.lastIndexOf(':') + 1)) });
    socket.on('error', () => {});
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(64 * 1024 * 1024);
    socket.write(Buffer.concat([head, Buffer.from('hello\n')]));
    const since = Date.now();
    await closed;
    assert.ok(Date.now() - since < 2000, 'not left to the handshake timeout');
  });

  it('a peer that dies with messages it never acknowledged: they go to offline storage, not lost', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(1, b);
    await warmUp(alice, bob, b.jid, nodes[0]!, 'n2');
    // n2 hangs: it reads nothing more from its links (so delivers and acknowledges nothing), then dies.
    for (const socket of (linksOf(nodes[1]!) as unknown as { inbound: Map<Socket, unknown> }).inbound.keys()) socket.pause();
    await alice.send(xml('message', { type: 'chat', to: b.jid, id: 'in-flight-1' }, xml('body', {}, 'in flight')));
    await alice.ping();
    // The watcher would count as a listener on n2's channel.
    await watcher.unsubscribe(`${prefix}node:n2`);
    const n2 = nodes[1]!;
    (n2.server.cluster as RedisCluster).crash();
    stopped.add(n2);
    await pools[1]!.stopAll();
    await n2.stop();
    await until(() => outLink(nodes[0]!, 'n2')?.state !== 'up', 5000, 'n1 sees the link go');
    await sleep(300);
    const later = await on(0, b);
    const got = await later.take(bodyIs('in flight'), 5000, 'from offline storage');
    assert.ok(got.getChild('delay', NS_DELAY), 'stored offline');
    assert.equal(got.attrs.id, 'in-flight-1', 'with its id (a copy the dead node had delivered too can be told apart by it)');
    // Once the registry dropped n2, n1 keeps nothing of its link to it.
    await until(() => !outLinks(nodes[0]!).has('n2'), 6000, 'n1 forgets its link to the dead n2');
  });
});
