// The Redis cluster: a session registry and a pub/sub channel per node.
//
//   <prefix>nodes            sorted set: node id → time of its last heartbeat (ms)
//   <prefix>sess:<bare>      hash: resource → "node\tavailable\tpriority\tpresence"; a session whose privacy list
//                            in force is not the user's default adds it to priority: "|=<name, URI-encoded>",
//                            or "|-" (declined) — a node without that reads the priority as 0
//   <prefix>jids:<node>      set of the node's "bare/resource" (what to remove when it dies)
//   <prefix>node:<node>      the node's channel: "kind\nto\nsending node\nstanza", or several envelopes
//                            sent in one event-loop turn: "batch\n<count>\nsending node\n" followed by
//                            "kind\nto\n<stanza length>\nstanza" for each
//   <prefix>links            hash: node id → "host:port" of its direct link listener (links.ts), when it has one
//   <prefix>resume:<id>      the node a resumable stream-management session moved to (expires after a day)
//   <prefix>all              every node's: "gone\n<bare/resource>\n<reaping node>\n" for each reaped resource,
//                            "loc\n<bare>\n<node>\n" after every change of <prefix>sess:<bare>, and
//                            "dead\n<node>\n<reaping node>\n" for each node reaped (a node leaving reaps itself)
//   room keys                 see redis-rooms.ts (group-room occupancy; reaped with the sessions)
//
// A node heartbeats every third of the TTL. Lookups ignore resources of nodes whose heartbeat is
// older than the TTL; every live node also reaps dead nodes (their resources leave the hashes), so
// a node that dies without cleaning up is gone from the registry within TTL + one heartbeat, and
// every node announces those resources unavailable to its own users.
//
// Location cache: `locate` answers from memory what it last read of a `sess:<bare>` hash. Every script
// that changes such a hash publishes "loc" on the `all` channel in the same step, and each node
// forgets the bare JID when it arrives, so the cache is as current as a lookup issued at that moment
// would have been (a reply racing an invalidation is not kept). While the subscriber connection is
// down nothing is cached. A stale entry cannot lose a message: a publish nobody took drops the
// node's entries and the caller looks again (`fresh`), and a node that finds nobody for a relayed
// message looks the recipient up afresh before offline storage takes it (cluster-routing).
//
// Direct links (cluster_secret): envelopes for a node with a link up go over it instead of its
// channel (links.ts); while anything for that node is on its way through Redis, Redis keeps
// carrying it, so what was sent first arrives first (a "fence" envelope on the channel tells the
// peer when it read all of it: see links.ts). Batches a dropped link had not seen acknowledged go
// again through the channel as "again" envelopes (delivered at most once).
import { metrics } from '../metrics/index.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Cluster, Envelope, ResourceLocation, ResourceState } from './types.js';
import { RedisRoomDirectory, REAP_ROOMS } from './redis-rooms.js';
import { batch, receiveBatch, single, unbatch } from './envelopes.js';
import { NodeLinks } from './links.js';

const NODE_OF = `string.match(v, '^[^\\t]*')`;

const LOCATE = `
local entries = redis.call('HGETALL', KEYS[1])
local out = {}
local alive = {}
local min = tonumber(ARGV[1])
for i = 1, #entries, 2 do
  local v = entries[i + 1]
  local node = ${NODE_OF}
  local ok = alive[node]
  if ok == nil then
    local score = redis.call('ZSCORE', KEYS[2], node)
    ok = (score ~= false) and (tonumber(score) >= min)
    alive[node] = ok
  end
  if ok then
    out[#out + 1] = entries[i]
    out[#out + 1] = v
  end
end
return out`;

/** Lua: tells every node (ARGV[6] is the `all` channel, ARGV[7] the bare JID) that the account's hash changed. */
const CHANGED = `redis.call('PUBLISH', ARGV[6], 'loc\\n' .. ARGV[7] .. '\\n' .. ARGV[4] .. '\\n')`;

// KEYS: sess, jids. ARGV: resource, value, member, self, (unused), all channel, bare.
const REGISTER = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  ${CHANGED}
end
redis.call('SADD', KEYS[2], ARGV[3])
return 1`;

// KEYS: sess, jids, nodes. ARGV: resource, value, member, self, min heartbeat, all channel, bare.
const CLAIM = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if old ~= ARGV[2] then ${CHANGED} end
if not old then return false end
local v = old
local node = ${NODE_OF}
if node == ARGV[4] then return false end
local score = redis.call('ZSCORE', KEYS[3], node)
if score == false or tonumber(score) < tonumber(ARGV[5]) then return false end
return node`;

/** Seconds a moved stream's new home is remembered: a session living longer falls back to a fresh login. */
const RESUMABLE_TTL = 24 * 3600;

// KEYS: sess, jids. ARGV: resource, (unused), member, self, (unused), all channel, bare.
const UNREGISTER = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and ${NODE_OF} == ARGV[4] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  ${CHANGED}
end
redis.call('SREM', KEYS[2], ARGV[3])
return 1`;

const REAP = `
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, 20)
local removed = {}
for _, node in ipairs(dead) do
  local setKey = ARGV[1] .. 'jids:' .. node
  for _, m in ipairs(redis.call('SMEMBERS', setKey)) do
    local slash = string.find(m, '/', 1, true)
    if slash then
      local hkey = ARGV[1] .. 'sess:' .. string.sub(m, 1, slash - 1)
      local res = string.sub(m, slash + 1)
      local v = redis.call('HGET', hkey, res)
      if v and ${NODE_OF} == node then
        redis.call('HDEL', hkey, res)
        removed[#removed + 1] = m
        redis.call('PUBLISH', ARGV[1] .. 'all', 'loc\\n' .. string.sub(m, 1, slash - 1) .. '\\n' .. ARGV[3] .. '\\n')
      end
    end
  end
  redis.call('DEL', setKey)
  redis.call('HDEL', ARGV[1] .. 'links', node)
  redis.call('PUBLISH', ARGV[1] .. 'all', 'dead\\n' .. node .. '\\n' .. ARGV[3] .. '\\n')
${REAP_ROOMS}
  redis.call('ZREM', KEYS[1], node)
end
return removed`;

interface ClusterCommands {
  parleyLocate(sessKey: string, nodesKey: string, min: number): Promise<string[]>;
  parleyRegister(sessKey: string, jidsKey: string, resource: string, value: string, member: string, node: string, unused: string, all: string, bare: string): Promise<number>;
  parleyClaim(sessKey: string, jidsKey: string, nodesKey: string, resource: string, value: string, member: string, node: string, min: number, all: string, bare: string): Promise<string | null>;
  parleyUnregister(sessKey: string, jidsKey: string, resource: string, unused: string, member: string, node: string, unused2: string, all: string, bare: string): Promise<number>;
  parleyReap(nodesKey: string, prefix: string, max: number, reaper: string): Promise<string[]>;
}
type CommandRedis = Redis & ClusterCommands;

export interface RedisClusterOptions {
  url: string;
  nodeId?: string | null;
  /** Seconds. */
  ttl: number;
  prefix?: string;
  log: Logger;
  /** Direct links to the other nodes (links.ts); without them every envelope goes through Redis. */
  links?: { secret: string; bind: string; port: number; advertise: string | null } | null;
}

export class RedisCluster implements Cluster {
  readonly enabled = true;
  readonly nodeId: string;
  readonly prefix: string;
  readonly rooms: RedisRoomDirectory;
  private readonly ttlMs: number;
  private readonly log: Logger;
  private readonly redis: CommandRedis;
  private readonly sub: Redis;
  /** redis_url without its password, for messages. */
  private readonly where: string;
  private timer: NodeJS.Timeout | null = null;
  private dead = false;
  private joined = false;
  private rejoin: (() => Promise<void>) | null = null;
  /** bare JID → its live resources as last read (see "Location cache" above). */
  private readonly cache = new Map<string, ResourceLocation[]>();
  /** bare JID → the lookup whose answer may be cached (an invalidation meanwhile removes it). */
  private readonly reading = new Map<string, object>();
  /** False while invalidations may be missed (the subscriber connection is not subscribed). */
  private caching = false;
  /** Envelopes waiting for the end of this event-loop turn, by node. */
  private readonly outbox = new Map<string, Outbox>();
  private readonly links: NodeLinks | null;
  private receive: (envelope: Envelope) => void = () => {};

  constructor(opts: RedisClusterOptions) {
    this.nodeId = opts.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    if (/[\t\n]/.test(this.nodeId)) throw new Error('a cluster node id cannot contain tabs or newlines');
    this.prefix = opts.prefix ?? 'parley:';
    this.ttlMs = opts.ttl * 1000;
    this.log = opts.log;
    this.where = opts.url.replace(/\/\/[^@/]*@/, '//');
    const connection = { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true };
    this.redis = new Redis(opts.url, connection) as CommandRedis;
    this.redis.defineCommand('parleyLocate', { numberOfKeys: 2, lua: LOCATE });
    this.redis.defineCommand('parleyRegister', { numberOfKeys: 2, lua: REGISTER });
    this.redis.defineCommand('parleyClaim', { numberOfKeys: 3, lua: CLAIM });
    this.redis.defineCommand('parleyUnregister', { numberOfKeys: 2, lua: UNREGISTER });
    this.redis.defineCommand('parleyReap', { numberOfKeys: 1, lua: REAP });
    this.sub = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.links = opts.links
      ? new NodeLinks({
          ...opts.links,
          nodeId: this.nodeId,
          log: this.log,
          addressOf: (node) => this.redis.hget(this.linksKey, node),
          fence: (node, token) => void this.redis.publish(this.channel(node), single({ kind: FENCE, to: token, stanza: '' }, this.nodeId)).catch(() => {}),
          down: (node, batches, unsent) => this.sendAgain(node, batches, unsent),
        })
      : null;
    for (const r of [this.redis, this.sub]) r.on('error', (err) => this.log.warn({ err }, 'redis connection error'));
    this.rooms = new RedisRoomDirectory({
      redis: this.redis,
      prefix: this.prefix,
      nodeId: this.nodeId,
      ttlMs: this.ttlMs,
      log: this.log,
      locateMany: (bares) => this.locateMany(bares),
      publish: (node, message) => {
        if (this.dead) return Promise.resolve(0);
        metrics.clusterMessages.add('out');
        metrics.clusterBytes.add('out', message.length);
        return this.redis.publish(this.channel(node), message);
      },
      stopped: () => this.dead,
    });
  }

  private get nodesKey(): string {
    return `${this.prefix}nodes`;
  }
  private sessKey(bare: string): string {
    return `${this.prefix}sess:${bare}`;
  }
  private jidsKey(node = this.nodeId): string {
    return `${this.prefix}jids:${node}`;
  }
  private channel(node: string): string {
    return `${this.prefix}node:${node}`;
  }
  private get linksKey(): string {
    return `${this.prefix}links`;
  }
  private get broadcastChannel(): string {
    return `${this.prefix}all`;
  }

  async start(receive: (envelope: Envelope) => void, rejoin?: () => Promise<void>): Promise<void> {
    this.rejoin = rejoin ?? null;
    this.receive = receive;
    try {
      await Promise.all([this.redis.connect(), this.sub.connect()]);
    } catch (err) {
      this.crash();
      throw new Error(`cannot reach Redis at ${this.where} (redis_url): ${(err as Error).message}`);
    }
    const take = (envelope: Envelope): void => {
      if (envelope.kind === AGAIN) this.receiveAgain(envelope);
      else if (envelope.kind === FENCE) this.links?.fenced(envelope.node!, envelope.to);
      else receive(envelope);
    };
    this.sub.on('message', (_channel: string, message: string) => {
      metrics.clusterMessages.add('in');
      metrics.clusterBytes.add('in', message.length);
      const a = message.indexOf('\n');
      const b = message.indexOf('\n', a + 1);
      const c = message.indexOf('\n', b + 1);
      if (a < 0 || b < 0 || c < 0) return;
      if (message.startsWith('loc\n')) return this.forget(message.slice(a + 1, b));
      if (message.startsWith('dead\n')) return this.nodeGone(message.slice(a + 1, b));
      if (message.startsWith('muc\n')) return this.rooms.receive(message.slice(a + 1, b), message.slice(c + 1), message.slice(b + 1, c));
      if (message.startsWith('batch\n')) return unbatch(message, b + 1, c, Number(message.slice(a + 1, b)), take);
      take({ kind: message.slice(0, a), to: message.slice(a + 1, b), node: message.slice(b + 1, c), stanza: message.slice(c + 1) });
    });
    // Invalidations missed while the subscription is down: nothing cached meanwhile, all forgotten.
    this.sub.on('close', () => this.stopCaching());
    this.sub.on('ready', () => {
      if (this.dead || !this.timer) return;
      // ioredis subscribes again by itself; this resolves once the broadcast channel is ours again.
      this.sub.subscribe(this.broadcastChannel).then(
        () => (this.caching = !this.dead),
        (err) => this.log.warn({ err }, 'subscribing again to the cluster channel failed'),
      );
    });
    await this.clearPredecessor();
    await this.sub.subscribe(this.channel(this.nodeId), this.broadcastChannel);
    this.caching = true;
    if (this.links) await this.redis.hset(this.linksKey, this.nodeId, await this.links.listen(receive));
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
    this.log.info({ node: this.nodeId }, 'joined the cluster');
  }

  /** A process restarted under the same id (a worker its primary started again): the sessions its predecessor registered are gone. */
  private async clearPredecessor(): Promise<void> {
    if ((await this.redis.scard(this.jidsKey())) === 0) return;
    await this.redis.zadd(this.nodesKey, 0, this.nodeId);
    const removed = await this.redis.parleyReap(this.nodesKey, this.prefix, 0, this.nodeId);
    for (const member of removed) await this.redis.publish(this.broadcastChannel, `gone\n${member}\n${this.nodeId}\n`);
    this.log.info({ node: this.nodeId, removed: removed.length }, 'removed the sessions an earlier process with this node id left');
  }

  private async heartbeat(): Promise<void> {
    if (this.dead) return;
    try {
      const now = Date.now();
      const added = await this.redis.zadd(this.nodesKey, now, this.nodeId);
      if (Number(added) > 0 && this.joined) {
        // Taken for dead and reaped meanwhile: put this node's resources back.
        this.log.warn({ node: this.nodeId }, 'this node was dropped from the cluster; registering its sessions again');
        await this.rejoin?.();
        await this.rooms.rejoin();
        if (this.links) await this.redis.hset(this.linksKey, this.nodeId, this.links.address);
      }
      this.joined = true;
      const removed = await this.redis.parleyReap(this.nodesKey, this.prefix, now - this.ttlMs, this.nodeId);
      if (removed.length > 0) {
        this.log.info({ removed: removed.length }, 'removed the sessions of dead cluster nodes');
        // Every node tells its own users that these resources went away.
        for (const member of removed) {
          await this.redis.publish(this.broadcastChannel, `gone\n${member}\n${this.nodeId}\n`);
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'cluster heartbeat failed');
    }
  }

  async register(bare: string, resource: string, state: ResourceState): Promise<void> {
    if (this.dead) return;
    await this.redis.parleyRegister(this.sessKey(bare), this.jidsKey(), resource, this.entry(state), `${bare}/${resource}`, this.nodeId, '', this.broadcastChannel, bare);
  }

  async claim(bare: string, resource: string, state: ResourceState): Promise<string | null> {
    if (this.dead) return null;
    const min = Date.now() - this.ttlMs;
    return this.redis.parleyClaim(this.sessKey(bare), this.jidsKey(), this.nodesKey, resource, this.entry(state), `${bare}/${resource}`, this.nodeId, min, this.broadcastChannel, bare);
  }

  private entry(state: ResourceState): string {
    const list = state.list === undefined ? '' : state.list === null ? '|-' : `|=${encodeURIComponent(state.list)}`;
    return `${this.nodeId}\t${state.available ? 1 : 0}\t${state.priority}${list}\t${state.presence ?? ''}`;
  }

  async placeResumable(id: string, node: string | null): Promise<void> {
    if (this.dead) return;
    const key = `${this.prefix}resume:${id}`;
    if (node === null) await this.redis.del(key);
    else await this.redis.set(key, node, 'EX', RESUMABLE_TTL);
  }

  async resumableAt(id: string): Promise<string | null> {
    if (this.dead) return null;
    return this.redis.get(`${this.prefix}resume:${id}`);
  }

  async unregister(bare: string, resource: string): Promise<void> {
    if (this.dead) return;
    await this.redis.parleyUnregister(this.sessKey(bare), this.jidsKey(), resource, '', `${bare}/${resource}`, this.nodeId, '', this.broadcastChannel, bare);
  }

  async locate(bare: string, options?: { fresh?: boolean }): Promise<ResourceLocation[]> {
    if (!options?.fresh) {
      const cached = this.cache.get(bare);
      if (cached) return cached;
    }
    const token = {};
    const cacheable = this.caching;
    if (cacheable) this.reading.set(bare, token);
    const found = parse(await this.redis.parleyLocate(this.sessKey(bare), this.nodesKey, Date.now() - this.ttlMs));
    if (cacheable && this.reading.get(bare) === token) {
      this.reading.delete(bare);
      if (this.caching) this.remember(bare, found);
    }
    return found;
  }

  private remember(bare: string, found: ResourceLocation[]): void {
    if (this.cache.size >= LOCATION_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(bare, found);
  }

  /** The account's registry entry changed (or may have): the next lookup asks Redis. */
  private forget(bare: string): void {
    this.cache.delete(bare);
    this.reading.delete(bare);
  }

  /** `node` was reaped (it died, or left): nothing of it is kept. */
  private nodeGone(node: string): void {
    if (node === this.nodeId) return;
    this.forgetNode(node);
    this.links?.forget(node);
  }

  /** Nobody listens on `node` any more: whatever the cache says about it is stale. */
  private forgetNode(node: string): void {
    for (const [bare, locations] of this.cache) if (locations.some((l) => l.node === node)) this.forget(bare);
  }

  private stopCaching(): void {
    this.caching = false;
    this.cache.clear();
    this.reading.clear();
  }

  async locateMany(bares: string[]): Promise<Map<string, ResourceLocation[]>> {
    const min = Date.now() - this.ttlMs;
    const found = await Promise.all(bares.map((bare) => this.redis.parleyLocate(this.sessKey(bare), this.nodesKey, min)));
    return new Map(bares.map((bare, i) => [bare, parse(found[i]!)]));
  }

  /**
   * Envelopes for a node leave at the end of the event-loop turn, as one pub/sub message (one
   * command, one write for Redis to fan out, one read on the receiving node), in the order given.
   * While one is on its way to a node, what follows for that node waits for Redis's answer and then
   * leaves together: no delay when the link is idle, larger batches when it is busy.
   */
  publish(node: string, envelope: Envelope): Promise<boolean> {
    if (this.dead) return Promise.resolve(false);
    metrics.clusterMessages.add('out');
    // The link only once nothing for the node is on its way through Redis (what went first arrives first).
    if (this.links?.send(node, envelope, !this.outbox.has(node))) return TAKEN;
    return this.publishThroughRedis(node, envelope);
  }

  private publishThroughRedis(node: string, envelope: Envelope): Promise<boolean> {
    let queue = this.outbox.get(node);
    if (!queue) this.outbox.set(node, (queue = { envelopes: [], sent: [], busy: false, scheduled: false }));
    queue.envelopes.push(envelope);
    if (!queue.busy && !queue.scheduled) {
      queue.scheduled = true;
      setImmediate(() => this.flush(node, queue));
    }
    return new Promise((resolve) => queue.sent.push(resolve));
  }

  /** A batch a peer sent again after its link here dropped (nested in an envelope or in a batch): delivered unless the link brought it. */
  private receiveAgain({ to: again, node, stanza }: Envelope): void {
    if (node && this.links && !this.links.takeAgain(node, again)) return;
    receiveBatch(stanza, this.receive, node);
  }

  /**
   * A link dropped with these envelopes unacknowledged: they go again, in order, through Redis.
   * Messages no node takes there (the peer is gone) come back to this node as if relayed to it: it
   * looks the recipient up afresh, and offline storage takes them when nobody is found.
   */
  private sendAgain(node: string, batches: { again: string; envelopes: Envelope[] }[], unsent: Envelope[]): void {
    const reroute = (envelopes: Envelope[]) => (taken: boolean) => {
      if (taken || this.dead) return;
      for (const envelope of envelopes) if (REROUTED.has(envelope.kind)) this.receive({ ...envelope, node: this.nodeId });
    };
    for (const { again, envelopes } of batches) void this.publishThroughRedis(node, { kind: AGAIN, to: again, stanza: batch(envelopes, this.nodeId) }).then(reroute(envelopes));
    for (const envelope of unsent) void this.publishThroughRedis(node, envelope).then(reroute([envelope]));
  }

  private flush(node: string, queue: Outbox): void {
    queue.scheduled = false;
    if (queue.envelopes.length === 0) {
      this.outbox.delete(node);
      return;
    }
    const { envelopes, sent } = queue;
    queue.envelopes = [];
    queue.sent = [];
    const done = (taken: boolean): void => {
      if (!taken) this.forgetNode(node);
      for (const resolve of sent) resolve(taken);
    };
    if (this.dead) return done(false);
    const message = envelopes.length === 1 ? single(envelopes[0]!, this.nodeId) : batch(envelopes, this.nodeId);
    metrics.clusterBytes.add('out', message.length);
    queue.busy = true;
    this.redis.publish(this.channel(node), message).then(
      (receivers) => done(receivers > 0),
      (err) => {
        this.log.warn({ err, node }, 'publishing to a cluster node failed');
        done(false);
      },
    ).finally(() => {
      queue.busy = false;
      this.flush(node, queue);
    });
  }

  async liveNodes(): Promise<string[]> {
    if (this.dead) return [];
    return this.redis.zrangebyscore(this.nodesKey, Date.now() - this.ttlMs, '+inf');
  }

  /** Resolves when Redis answers a PING (the health check); rejects otherwise. */
  async ping(): Promise<void> {
    if (this.dead) throw new Error('this node left the cluster');
    await this.redis.ping();
  }

  async stop(): Promise<void> {
    if (this.dead) return;
    if (this.timer) clearInterval(this.timer);
    this.stopCaching();
    try {
      // Whatever sessions are left (there should be none after the core stopped) leave with the node.
      await this.redis.zadd(this.nodesKey, 0, this.nodeId);
      await this.redis.parleyReap(this.nodesKey, this.prefix, 0, this.nodeId);
    } catch (err) {
      this.log.warn({ err }, 'leaving the cluster failed');
    }
    this.dead = true;
    await this.links?.close();
    await Promise.allSettled([this.sub.quit(), this.redis.quit()]);
  }

  /** For tests: the node vanishes as if its process died (no heartbeat, no cleanup). */
  crash(): void {
    this.dead = true;
    this.stopCaching();
    if (this.timer) clearInterval(this.timer);
    this.sub.disconnect();
    this.redis.disconnect();
    // Its links deliver nothing from now on; their connections close a little after Redis learnt that
    // the node's subscription went (a dead process's sockets all close at once: no order to rely on).
    void this.links?.close(50);
  }
}

/** What waits to be published to one node. */
interface Outbox {
  envelopes: Envelope[];
  sent: ((taken: boolean) => void)[];
  /** A publish to the node is on its way. */
  busy: boolean;
  /** A flush is due at the end of this event-loop turn. */
  scheduled: boolean;
}

const TAKEN = Promise.resolve(true);

/** The envelope kind of a batch sent again through Redis after a link dropped: `to` is "<link session>:<number>", `stanza` the batch. */
const AGAIN = 'again';

/** The envelope kind of a fence (links.ts): `to` is "<link session>:<number>"; no stanza. */
const FENCE = 'fence';

/** Envelope kinds that a dead peer's node hands back to the routing (messages: never lost silently). */
const REROUTED = new Set(['message/bare', 'message/full', 'message/forwarded']);

/** Accounts whose locations a node remembers at most (the oldest is forgotten first). */
const LOCATION_CACHE_SIZE = 100_000;

/** The privacy-list mark after a priority: "=<name>", or "-" (declined; so does anything unknown). */
function listOf(mark: string): string | null {
  if (!mark.startsWith('=')) return null;
  try {
    return decodeURIComponent(mark.slice(1));
  } catch {
    return null;
  }
}

function parse(flat: string[]): ResourceLocation[] {
  const out: ResourceLocation[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [node = '', available, field = '', ...presence] = flat[i + 1]!.split('\t');
    const p = presence.join('\t');
    const bar = field.indexOf('|');
    const location: ResourceLocation = { resource: flat[i]!, node, available: available === '1', priority: Number(bar < 0 ? field : field.slice(0, bar)) || 0, presence: p === '' ? null : p };
    if (bar >= 0) location.list = listOf(field.slice(bar + 1));
    out.push(location);
  }
  return out;
}
