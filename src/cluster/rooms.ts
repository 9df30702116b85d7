// Who sits in which group room across the cluster, and how nodes tell each other about a room.
// The MUC module keeps each room's occupancy in memory; a RoomDirectory tells it about occupants
// on other nodes and carries its events (joins, leaves, messages, kicks) to the nodes concerned.

/** One joined resource of a room, as the other nodes learn it. */
export interface RoomMember {
  /** The occupant's real full JID. */
  jid: string;
  userId: number;
  affiliation: string;
  role: string;
  /** The presence the occupant last sent to the room (serialized), for its children. */
  presence: string;
  /** The occupant's nick, in rooms where nicks are free text (open rooms). */
  nick?: string;
}

/** A member on some node. */
export interface PlacedMember extends RoomMember {
  node: string;
}

export type RoomEvent =
  /** A resource joined, or an occupant's presence changed. */
  | { type: 'join'; member: RoomMember }
  | { type: 'leave'; jid: string }
  /** Members of a node that died. */
  | { type: 'gone'; jids: string[] }
  /** A relayed groupchat message (no `to`); with `userIds`, for those accounts' available resources (no join needed). */
  | { type: 'message'; stanza: string; userIds?: number[] }
  | { type: 'kick'; userIds: number[]; actor: number }
  /** The room is gone; open rooms tell why. */
  | { type: 'destroy'; reason?: string }
  /**
   * An occupant's presence from the room (serialized, no `to`) for every joined resource, its own
   * getting status 110 added; with `role`, the occupant's role now; with `removed`, the occupant is
   * taken out of the room (kicked, banned) and its resources leave.
   */
  | { type: 'occupant'; userId: number; presence: string; role?: string; removed?: boolean }
  /** The room's stored settings changed: nodes holding the room read them again. */
  | { type: 'changed' }
  /** To the joining node only: the members on other nodes just before its join. */
  | { type: 'members'; members: PlacedMember[] };

export interface RoomListener {
  /** An event about `room` (bare JID) from `node`; called in the order the events arrive. */
  event(room: string, event: RoomEvent, node: string): void;
  /** This node was taken for dead and its members dropped: join them again. */
  rejoin(): Promise<void>;
}

export interface RoomDirectory {
  /** False for the single-process directory: there are no other nodes. */
  readonly enabled: boolean;
  readonly nodeId: string;
  /** Adds a listener (each gets every event and picks the rooms it knows). */
  listen(listener: RoomListener): void;
  /**
   * Adds (or updates) a joined resource of this node and sends `join` to the other nodes with
   * members in the room, in one step. With `snapshot`, resolves once the listener has had the
   * `members` event: the members on other live nodes just before, ordered among the room's events
   * so that every later event applies on top of it.
   */
  join(room: string, member: RoomMember, snapshot: boolean): Promise<void>;
  /** Removes a resource of this node and sends `leave` to the other nodes with members in the room. */
  leave(room: string, jid: string): Promise<void>;
  /**
   * Sends an event to every node with members in the room and to this node, in one step: all nodes
   * get the events published for a room in the same order.
   */
  publish(room: string, event: RoomEvent): Promise<void>;
  /** Sends an event to the other nodes where these accounts have available resources. */
  publishToAccounts(room: string, bares: string[], event: RoomEvent): Promise<void>;
  /** The room's members on every live node. */
  members(room: string): Promise<PlacedMember[]>;
  /**
   * Takes a cluster-wide lock on `name` for at most `ttlMs`: the function that releases it, or null
   * when another holder has it. The single-process directory always grants it.
   */
  lock(name: string, ttlMs: number): Promise<(() => Promise<void>) | null>;
}
