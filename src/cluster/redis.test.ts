// The Redis cluster's location cache and batched publishing, against the Redis named by
// PARLEY_TEST_REDIS_URL (skipped when unset; `source .ci/test-redis.sh && start_test_redis`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisCluster } from './redis.js';
import type { Envelope, ResourceLocation } from './types.js';

const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL;
const log = pino({ level: 'silent' });
const available = (presence: string) => ({ available: true, priority: 0, presence });

/** Polls `read` until `ok` holds (at most two seconds). */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const until = Date.now() + 2000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > until) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

const where = (locations: ResourceLocation[]): string[] => locations.map((l) => `${l.resource}@${l.node}`).sort();

describe('RedisCluster', { skip: REDIS_URL ? false : 'PARLEY_TEST_REDIS_URL is unset' }, () => {
  const prefix = `parley-test-${randomBytes(4).toString('hex')}:`;
  const received = new Map<string, Envelope[]>();
  const nodes = new Map<string, RedisCluster>();
  let redis: Redis;

  const node = async (id: string): Promise<RedisCluster> => {
    const cluster = new RedisCluster({ url: REDIS_URL!, nodeId: id, ttl: 5, prefix, log });
    received.set(id, []);
    await cluster.start((envelope) => received.get(id)!.push(envelope));
    nodes.set(id, cluster);
    return cluster;
  };

  before(() => {
    redis = new Redis(REDIS_URL!);
  });

  after(async () => {
    for (const cluster of nodes.values()) await cluster.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('answers lookups from its cache, which every registry change on any node invalidates', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const bare = 'u1-1@example.com';
    assert.deepEqual(await a.locate(bare), []);
    await b.register(bare, 'phone', available('<presence/>'));
    await eventually(() => a.locate(bare), (l) => where(l).join() === 'phone@b', 'a learns of the new resource');
    await b.claim(bare, 'web', available('<presence/>'));
    await eventually(() => a.locate(bare), (l) => where(l).join() === 'phone@b,web@b', 'a learns of the claimed resource');
    await b.unregister(bare, 'phone');
    await eventually(() => a.locate(bare), (l) => where(l).join() === 'web@b', 'a learns the resource left');

    // The cache is what answers: a change made behind the registry's back (no notice) is not seen…
    await redis.hdel(`${prefix}sess:${bare}`, 'web');
    assert.deepEqual(where(await a.locate(bare)), ['web@b']);
    // …unless the caller asks for a fresh answer.
    assert.deepEqual(await a.locate(bare, { fresh: true }), []);
  });

  it("carries a session's privacy list in force (a name with any characters, or declined) beside its priority", async () => {
    const [a, b] = [nodes.get('a')!, nodes.get('b')!];
    const bare = 'u9-1@example.com';
    await b.register(bare, 'plain', { available: true, priority: 5, presence: '<presence>\t</presence>' });
    await b.register(bare, 'named', { available: true, priority: -3, presence: '<presence/>', list: 'no\tbob|=%x' });
    await b.register(bare, 'declined', { available: false, priority: 0, presence: null, list: null });
    const found = new Map((await a.locate(bare, { fresh: true })).map((l) => [l.resource, l]));
    assert.deepEqual(found.get('plain'), { resource: 'plain', node: 'b', available: true, priority: 5, presence: '<presence>\t</presence>' });
    assert.deepEqual(found.get('named'), { resource: 'named', node: 'b', available: true, priority: -3, presence: '<presence/>', list: 'no\tbob|=%x' });
    assert.deepEqual(found.get('declined'), { resource: 'declined', node: 'b', available: false, priority: 0, presence: null, list: null });
  });

  it('forgets the resources of a node that stops, and of a node whose publish nobody took', async () => {
    const [a, c] = [nodes.get('a')!, await node('c')];
    const bare = 'u2-1@example.com';
    await c.register(bare, 'phone', available('<presence/>'));
    await eventually(() => a.locate(bare), (l) => where(l).join() === 'phone@c', 'a learns of the resource');
    const d = await node('d');
    await d.register(bare, 'tablet', available('<presence/>'));
    await eventually(() => a.locate(bare), (l) => where(l).length === 2, 'a learns of the second resource');
    await c.stop(); // reaps its registrations: a notice for each
    await eventually(() => a.locate(bare), (l) => where(l).join() === 'tablet@d', 'a learns c left');
    // c's notices may still be on their way (a fresh read can see the hash before they arrive), and a
    // late one empties a's cache: let them land, then fill the cache again.
    await sleep(200);
    await eventually(() => a.locate(bare), (l) => where(l).join() === 'tablet@d', 'a still sees d');

    // d vanishes without a word: its entry stays in Redis (and the cache) until the TTL, but a
    // publish nobody takes drops what the cache says about d.
    d.crash();
    await redis.hdel(`${prefix}sess:${bare}`, 'tablet'); // unseen by a's cache
    assert.deepEqual(where(await a.locate(bare)), ['tablet@d']);
    assert.equal(await a.publish('d', { kind: 'message/bare', to: bare, stanza: '<message/>' }), false);
    assert.deepEqual(await a.locate(bare), []);
  });

  it('sends what is published to a node in one turn as one pub/sub message, in order and intact', async () => {
    const [a, b] = [nodes.get('a')!, nodes.get('b')!];
    const seen: string[] = [];
    const watcher = new Redis(REDIS_URL!);
    await watcher.subscribe(`${prefix}node:b`);
    watcher.on('message', (_channel: string, message: string) => seen.push(message));
    received.set('b', []);
    const stanzas = ['<message><body>line one\nline two\n\n</body></message>', '', '<message><body>émoji 🎉 and ünïcode</body></message>', 'batch\n2\nx\n'];
    const sent = await Promise.all(stanzas.map((stanza, i) => a.publish('b', { kind: `k${i}`, to: `to${i}@example.com`, stanza })));
    assert.deepEqual(sent, [true, true, true, true]);
    await eventually(async () => received.get('b')!.length, (n) => n === stanzas.length, 'b receives every envelope');
    assert.deepEqual(
      received.get('b'),
      stanzas.map((stanza, i) => ({ kind: `k${i}`, to: `to${i}@example.com`, node: 'a', stanza })),
    );
    assert.equal(seen.length, 1, 'one pub/sub message');
    // Alone in its turn, an envelope travels as it always did.
    received.set('b', []);
    assert.equal(await b.publish('a', { kind: 'solo', to: 'x@example.com', stanza: '<presence/>' }), true);
    assert.equal(await a.publish('b', { kind: 'solo', to: 'y@example.com', stanza: '<presence/>' }), true);
    await eventually(async () => received.get('b')!.length, (n) => n === 1, 'b receives it');
    assert.equal(seen[1], 'solo\ny@example.com\na\n<presence/>');
    await watcher.quit();
  });
});
