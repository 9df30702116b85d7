// Where sessions live across nodes, and how a stanza reaches another node. The router consults
// a Cluster only when the recipient is not on this node (the local fast path never does).
import type { RoomDirectory } from './rooms.js';

/** One bound resource somewhere in the cluster. */
export interface ResourceLocation {
  resource: string;
  node: string;
  available: boolean;
  priority: number;
  /** The resource's current presence stanza (serialized), when available. */
  presence: string | null;
  /** The privacy list in force in the session when it is not the user's default: its name, or null (declined). */
  list?: string | null;
}

/** What a session publishes about itself. */
export interface ResourceState {
  available: boolean;
  priority: number;
  presence: string | null;
  /** The privacy list active in the session when it is not the user's default: its name, or null (declined). */
  list?: string | null;
}

/**
 * A stanza travelling to another node. `kind` tells the receiver how to deliver it:
 * `message/bare`, `message/full`, `presence/bare`, `presence/full`, `iq/full`, `presence/to`
 * (a presence broadcast: deliver to `to`'s available resources as it is) or `message/copy` (a
 * message the sending node also delivered locally: to `to`'s available resources here, never stored)
 * or `gone` (to every node: the resource `to` was on a node that died; no stanza).
 */
export interface Envelope {
  kind: string;
  /** The JID to deliver to (bare or full). */
  to: string;
  stanza: string;
  /** The node that sent it (set by `publish`). */
  node?: string;
}

export interface Cluster {
  /** False for the single-process cluster: nothing to consult, nothing to publish. */
  readonly enabled: boolean;
  readonly nodeId: string;
  /** Group-room occupancy across the nodes. */
  readonly rooms: RoomDirectory;
  /**
   * Starts heartbeats and the subscription to this node's channel. `rejoin` is called when the node
   * finds it was taken for dead (its heartbeat stalled past the TTL, say a partition): the others
   * dropped its resources, which it must register again.
   */
  start(receive: (envelope: Envelope) => void, rejoin?: () => Promise<void>): Promise<void>;
  /** Registers (or updates) a bound resource of this node. */
  register(bare: string, resource: string, state: ResourceState): Promise<void>;
  /**
   * `register`, returning the live node that held this resource before, when it was another one
   * (two logins with the same full JID: that node's session is replaced).
   */
  claim(bare: string, resource: string, state: ResourceState): Promise<string | null>;
  /** Records that the resumable stream `id` now lives on `node` (null: forget it). */
  placeResumable(id: string, node: string | null): Promise<void>;
  /** Where a resumable stream moved to, when `placeResumable` recorded it. */
  resumableAt(id: string): Promise<string | null>;
  /** Removes a resource of this node (unless another node holds it now). */
  unregister(bare: string, resource: string): Promise<void>;
  /**
   * The live resources of an account, on every node (this one included). May answer from a cache
   * kept current by the registry's change notices; `fresh` asks the registry itself (after a node
   * did not take what the cached answer sent it, or found nobody there).
   */
  locate(bare: string, options?: { fresh?: boolean }): Promise<ResourceLocation[]>;
  /** `locate` for several accounts in one round trip. */
  locateMany(bares: string[]): Promise<Map<string, ResourceLocation[]>>;
  /** Sends an envelope to a node (envelopes sent in one event-loop turn travel together, in order); false when no node listened (it is gone). */
  publish(node: string, envelope: Envelope): Promise<boolean>;
  /** The nodes whose heartbeat is within the TTL (this one included once started). */
  liveNodes(): Promise<string[]>;
  /** Resolves when the shared registry (Redis) answers; rejects otherwise (the health check). */
  ping(): Promise<void>;
  /** Leaves the cluster cleanly: this node's registrations are removed. */
  stop(): Promise<void>;
}
