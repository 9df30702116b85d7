// Group-room occupancy in Redis, next to the session registry (redis.ts):
//
//   <prefix>room:<room>        hash: occupant full JID → "node\t<member JSON>"
//   <prefix>roomnodes:<room>   hash: node → how many of the room's members it holds
//   <prefix>rooms:<node>       set of the rooms where the node has members (what to clean when it dies)
//   <prefix>lock:<name>        a short cluster-wide lock (an open room being created), expiring on its own
//
// Room events travel on the nodes' channels as "muc\n<room>\n<sending node>\n<event JSON>". Every
// script below changes the room and publishes to the room's nodes in one step, so each node gets a
// room's events in the order Redis ran the scripts — the same order on every node.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ResourceLocation } from './types.js';
import type { PlacedMember, RoomDirectory, RoomEvent, RoomListener, RoomMember } from './rooms.js';

const NODE_OF = (v: string): string => `string.match(${v}, '^[^\\t]*')`;

/** Lua: publishes ARGV-built `message` to each node of the room's `roomnodes` hash except `self`. */
const TO_ROOM_NODES = (roomnodes: string, prefix: string, self: string, message: string): string => `
for _, target in ipairs(redis.call('HKEYS', ${roomnodes})) do
  if target ~= ${self} then redis.call('PUBLISH', ${prefix} .. 'node:' .. target, ${message}) end
end`;

// KEYS: room, roomnodes, rooms:<self>, nodes. ARGV: jid, value, self, prefix, message, room, min heartbeat, snapshot token.
// With a token, the members on other live nodes as they were just before go to this node's own
// channel, so that they arrive before any later event about the room.
const JOIN = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
local before = {}
if ARGV[8] ~= '' then before = redis.call('HGETALL', KEYS[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local oldNode = old and ${NODE_OF('old')}
if oldNode ~= ARGV[3] then
  if oldNode and redis.call('HINCRBY', KEYS[2], oldNode, -1) <= 0 then redis.call('HDEL', KEYS[2], oldNode) end
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
end
redis.call('SADD', KEYS[3], ARGV[6])
${TO_ROOM_NODES('KEYS[2]', 'ARGV[4]', 'ARGV[3]', 'ARGV[5]')}
if ARGV[8] == '' then return 1 end
local flat = {}
local alive = {}
local min = tonumber(ARGV[7])
for i = 1, #before, 2 do
  local v = before[i + 1]
  local node = ${NODE_OF('v')}
  if node ~= ARGV[3] then
    local ok = alive[node]
    if ok == nil then
      local score = redis.call('ZSCORE', KEYS[4], node)
      ok = (score ~= false) and (tonumber(score) >= min)
      alive[node] = ok
    end
    if ok then flat[#flat + 1] = v end
  end
end
local snapshot = cjson.encode({ type = 'members', token = ARGV[8], flat = flat })
redis.call('PUBLISH', ARGV[4] .. 'node:' .. ARGV[3], 'muc\\n' .. ARGV[6] .. '\\n' .. ARGV[3] .. '\\n' .. snapshot)
return 1`;

// KEYS: room, roomnodes, rooms:<self>. ARGV: jid, self, prefix, message, room.
const LEAVE = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v or ${NODE_OF('v')} ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('SREM', KEYS[3], ARGV[5])
end
${TO_ROOM_NODES('KEYS[2]', 'ARGV[3]', 'ARGV[2]', 'ARGV[4]')}
return 1`;

// KEYS: roomnodes. ARGV: self, prefix, message.
const PUBLISH = `
${TO_ROOM_NODES('KEYS[1]', 'ARGV[2]', 'ARGV[1]', 'ARGV[3]')}
redis.call('PUBLISH', ARGV[2] .. 'node:' .. ARGV[1], ARGV[3])
return 1`;

// KEYS: room, nodes. ARGV: min heartbeat.
const MEMBERS = `
local entries = redis.call('HGETALL', KEYS[1])
local out = {}
local alive = {}
local min = tonumber(ARGV[1])
for i = 1, #entries, 2 do
  local v = entries[i + 1]
  local node = ${NODE_OF('v')}
  local ok = alive[node]
  if ok == nil then
    local score = redis.call('ZSCORE', KEYS[2], node)
    ok = (score ~= false) and (tonumber(score) >= min)
    alive[node] = ok
  end
  if ok then out[#out + 1] = v end
end
return out`;

// KEYS: lock. ARGV: token. Releases the lock only if it is still ours (it may have expired and been taken).
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Lua for the reaper (redis.ts), run for each dead `node` (a Lua variable) with ARGV[1] = prefix
 * and ARGV[3] = the reaping node: the dead node's members leave its rooms, and the rooms' other
 * nodes get a `gone` event.
 */
export const REAP_ROOMS = `
local roomsKey = ARGV[1] .. 'rooms:' .. node
for _, room in ipairs(redis.call('SMEMBERS', roomsKey)) do
  local hkey = ARGV[1] .. 'room:' .. room
  local nkey = ARGV[1] .. 'roomnodes:' .. room
  local entries = redis.call('HGETALL', hkey)
  local gone = {}
  for i = 1, #entries, 2 do
    local v = entries[i + 1]
    if ${NODE_OF('v')} == node then
      redis.call('HDEL', hkey, entries[i])
      gone[#gone + 1] = entries[i]
    end
  end
  redis.call('HDEL', nkey, node)
  if #gone > 0 then
    local message = 'muc\\n' .. room .. '\\n' .. ARGV[3] .. '\\n' .. cjson.encode({ type = 'gone', jids = gone })
    ${TO_ROOM_NODES('nkey', 'ARGV[1]', 'node', 'message')}
  end
end
redis.call('DEL', roomsKey)`;

interface RoomCommands {
  parleyRoomJoin(room: string, roomnodes: string, rooms: string, nodes: string, ...argv: string[]): Promise<number>;
  parleyRoomLeave(room: string, roomnodes: string, rooms: string, ...argv: string[]): Promise<number>;
  parleyRoomPublish(roomnodes: string, ...argv: string[]): Promise<number>;
  parleyRoomMembers(room: string, nodes: string, min: number): Promise<string[]>;
  parleyUnlock(key: string, token: string): Promise<number>;
}

export interface RedisRoomDirectoryOptions {
  redis: Redis;
  prefix: string;
  nodeId: string;
  ttlMs: number;
  log: Logger;
  locateMany(bares: string[]): Promise<Map<string, ResourceLocation[]>>;
  publish(node: string, message: string): Promise<number>;
  /** True once the node left the cluster or crashed: nothing more is written. */
  stopped(): boolean;
}

const SNAPSHOT_TIMEOUT_MS = 5000;

export class RedisRoomDirectory implements RoomDirectory {
  readonly enabled = true;
  readonly nodeId: string;
  private readonly redis: Redis & RoomCommands;
  private readonly listeners: RoomListener[] = [];
  /** Joins waiting for their snapshot, by token. */
  private readonly snapshots = new Map<string, () => void>();

  constructor(private readonly opts: RedisRoomDirectoryOptions) {
    this.nodeId = opts.nodeId;
    this.redis = opts.redis as Redis & RoomCommands;
    this.redis.defineCommand('parleyRoomJoin', { numberOfKeys: 4, lua: JOIN });
    this.redis.defineCommand('parleyRoomLeave', { numberOfKeys: 3, lua: LEAVE });
    this.redis.defineCommand('parleyRoomPublish', { numberOfKeys: 1, lua: PUBLISH });
    this.redis.defineCommand('parleyRoomMembers', { numberOfKeys: 2, lua: MEMBERS });
    this.redis.defineCommand('parleyUnlock', { numberOfKeys: 1, lua: UNLOCK });
  }

  private key(room: string): string {
    return `${this.opts.prefix}room:${room}`;
  }
  private nodesKey(room: string): string {
    return `${this.opts.prefix}roomnodes:${room}`;
  }
  private get roomsKey(): string {
    return `${this.opts.prefix}rooms:${this.nodeId}`;
  }
  private message(room: string, event: RoomEvent): string {
    return `muc\n${room}\n${this.nodeId}\n${JSON.stringify(event)}`;
  }

  listen(listener: RoomListener): void {
    this.listeners.push(listener);
  }

  private tell(room: string, event: RoomEvent, node: string): void {
    for (const listener of this.listeners) {
      try {
        listener.event(room, event, node);
      } catch (err) {
        // Thrown inside the Redis client's socket handler, it would take the process down.
        this.opts.log.error({ err, room, node, type: event.type }, 'handling a room event failed');
      }
    }
  }

  /** A room event from the node's channel (redis.ts hands over the envelopes of kind `muc`). */
  receive(room: string, json: string, node: string): void {
    let event: RoomEvent & { token?: string; flat?: unknown };
    try {
      event = JSON.parse(json) as RoomEvent;
      if (typeof event !== 'object' || event === null) throw new Error('not an object');
    } catch (err) {
      this.opts.log.warn({ err, room, node }, 'unreadable room event');
      return;
    }
    try {
      if (event.type !== 'members') return this.tell(room, event, node);
      // cjson encodes an empty list as {}.
      const flat = Array.isArray(event.flat) ? (event.flat as unknown[]).filter((v): v is string => typeof v === 'string') : [];
      this.tell(room, { type: 'members', members: parseMembers(flat) }, node);
    } finally {
      if (event.type === 'members' && event.token) this.snapshots.get(event.token)?.();
    }
  }

  async rejoin(): Promise<void> {
    for (const listener of this.listeners) await listener.rejoin();
  }

  async join(room: string, member: RoomMember, snapshot: boolean): Promise<void> {
    const token = snapshot ? randomBytes(9).toString('base64url') : '';
    let arrived: Promise<void> = Promise.resolve();
    if (token) {
      arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.snapshots.delete(token);
          reject(new Error(`no snapshot of ${room} from Redis within ${SNAPSHOT_TIMEOUT_MS} ms`));
        }, SNAPSHOT_TIMEOUT_MS);
        this.snapshots.set(token, () => {
          clearTimeout(timer);
          this.snapshots.delete(token);
          resolve();
        });
      });
      arrived.catch(() => {}); // awaited below; a failed script must not leave it unhandled
    }
    const value = `${this.nodeId}\t${JSON.stringify(member)}`;
    const min = String(Date.now() - this.opts.ttlMs);
    try {
      await this.redis.parleyRoomJoin(this.key(room), this.nodesKey(room), this.roomsKey, `${this.opts.prefix}nodes`,
        member.jid, value, this.nodeId, this.opts.prefix, this.message(room, { type: 'join', member }), room, min, token);
    } catch (err) {
      this.snapshots.get(token)?.();
      throw err;
    }
    await arrived;
  }

  async leave(room: string, jid: string): Promise<void> {
    if (this.opts.stopped()) return;
    await this.redis.parleyRoomLeave(this.key(room), this.nodesKey(room), this.roomsKey, jid, this.nodeId, this.opts.prefix, this.message(room, { type: 'leave', jid }), room);
  }

  async publish(room: string, event: RoomEvent): Promise<void> {
    await this.redis.parleyRoomPublish(this.nodesKey(room), this.nodeId, this.opts.prefix, this.message(room, event));
  }

  async publishToAccounts(room: string, bares: string[], event: RoomEvent): Promise<void> {
    const nodes = new Set<string>();
    for (const locations of (await this.opts.locateMany(bares)).values()) {
      for (const l of locations) if (l.available && l.node !== this.nodeId) nodes.add(l.node);
    }
    const message = this.message(room, event);
    await Promise.all([...nodes].map((node) => this.opts.publish(node, message)));
  }

  async lock(name: string, ttlMs: number): Promise<(() => Promise<void>) | null> {
    const key = `${this.opts.prefix}lock:${name}`;
    const token = randomBytes(12).toString('base64url');
    if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return null;
    return async () => {
      await this.redis.parleyUnlock(key, token);
    };
  }

  async members(room: string): Promise<PlacedMember[]> {
    return parseMembers(await this.redis.parleyRoomMembers(this.key(room), `${this.opts.prefix}nodes`, Date.now() - this.opts.ttlMs));
  }
}

/** Hash values "node\t<member JSON>". */
function parseMembers(values: string[]): PlacedMember[] {
  const out: PlacedMember[] = [];
  for (const value of values) {
    const tab = value.indexOf('\t');
    try {
      out.push({ ...(JSON.parse(value.slice(tab + 1)) as RoomMember), node: value.slice(0, tab) });
    } catch {
      // Written by a node of another version, say: skipped rather than trusted.
    }
  }
  return out;
}
