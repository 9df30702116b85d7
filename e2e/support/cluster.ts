// Cluster nodes in one process for the cluster e2e suites: they share the first node's store and the
// Redis named by PARLEY_TEST_REDIS_URL under a key prefix of their own, and talk either through Redis
// pub/sub alone or over direct node-to-node links (`cluster_secret`), Redis being their fallback.
import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Config } from '../../src/config/types.js';
import { startTestServer, type TestServer } from './server.js';

export const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL;

/** A suite's `skip` option: the cluster suites need a Redis. */
export const withoutRedis: string | false = REDIS_URL ? false : 'PARLEY_TEST_REDIS_URL is unset: no Redis to cluster over (bash .ci/run starts one)';

/** How nodes carry stanzas to each other. */
export type Transport = 'redis' | 'links';

/**
 * Both, for the suites whose stanzas take a node's `publish` (1-1 routing, presence, resumption).
 * Group rooms publish through Redis whichever the transport, so their suites run once, with links.
 */
export const TRANSPORTS: readonly Transport[] = ['redis', 'links'];

export interface TestCluster {
  /** The nodes, in the order of `ids` (filled in by the suite's `before`). */
  readonly nodes: TestServer[];
  /** Nodes a test stopped itself (the suite's `after` leaves them alone). */
  readonly stopped: Set<TestServer>;
  readonly prefix: string;
  readonly transport: Transport;
  /** A Redis connection of the test's own (for looking at the registry). */
  readonly redis: Redis;
  /** Starts one more node `id` sharing the first one's store. */
  addNode(id: string, overrides?: Partial<Config>): Promise<TestServer>;
}

/**
 * Registers the suite's `before` (starts a node per id) and `after` (runs `beforeStop`, then stops
 * the nodes in reverse order and deletes the suite's keys); call it at the top of a `describe`.
 */
export function useCluster(ids: string[], transport: Transport, overrides: Partial<Config> = {}, opts: { beforeStop?: () => Promise<void> } = {}): TestCluster {
  const prefix = `parley-test-${randomBytes(4).toString('hex')}:`;
  const links: Partial<Config> = transport === 'links' ? { cluster_secret: randomBytes(16).toString('hex'), cluster_link_bind: '127.0.0.1', cluster_link_port: 0 } : {};
  const settings: Partial<Config> = { redis_url: REDIS_URL!, redis_prefix: prefix, cluster_ttl: 2, ...links, ...overrides };
  const nodes: TestServer[] = [];
  let redis: Redis | null = null;
  const cluster: TestCluster = {
    nodes,
    stopped: new Set(),
    prefix,
    transport,
    get redis(): Redis {
      if (!redis) throw new Error('the cluster has not started');
      return redis;
    },
    async addNode(id, more = {}) {
      const node = await startTestServer({ ...settings, ...more, cluster_node_id: id }, nodes[0] ? { share: nodes[0] } : {});
      nodes.push(node);
      return node;
    },
  };

  before(async () => {
    if (!REDIS_URL) return;
    redis = new Redis(REDIS_URL);
    for (const id of ids) await cluster.addNode(id);
  });

  after(async () => {
    if (!redis) return;
    await opts.beforeStop?.();
    for (const node of [...nodes].reverse()) if (!cluster.stopped.has(node)) await node.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  return cluster;
}
