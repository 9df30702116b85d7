// Who is in which room. Rooms themselves are QuickBlox dialogs (ChatService); this registry only
// holds live occupancy: per room, the occupants by nick (= user id), and for each occupant the
// sessions (resources) of this node that joined with that nick, and those on other nodes. A room is
// kept while it has a resource of this node (or one is joining): only then does this node hear
// about the room from the others.
import type { C2sSession } from '../../core/api.js';
import type { Element } from '../../xml/element.js';
import { Jid } from '../../xmpp/jid.js';

export interface Occupant {
  userId: number;
  affiliation: 'owner' | 'admin' | 'member' | 'none';
  role: 'moderator' | 'participant';
  /** Joined resources of this node by full JID, in join order. */
  resources: Map<string, C2sSession>;
  /** Joined resources on other nodes: full JID → node. */
  remote: Map<string, string>;
  /** The presence payload (show, status, priority ...) the occupant last sent to the room. */
  payload: Element[];
}

export interface Room {
  /** The bare room JID. */
  jid: Jid;
  appId: number;
  dialogId: string;
  occupants: Map<number, Occupant>;
  /** Resources of this node joined, and joining (waiting for the other nodes' members). */
  local: number;
  joining: number;
  /** Resources on other nodes. */
  remote: number;
  /** Events this node published for the room that have not come back yet: later ones follow them through the cluster, to keep their order. */
  inFlight: number;
}

/** `<appId>_<dialogId>`: the local part of a QuickBlox room JID. */
export interface RoomAddress {
  appId: number;
  dialogId: string;
}

export function parseRoomLocal(local: string): RoomAddress | null {
  const m = /^([1-9][0-9]{0,15})_([0-9a-f]{24})$/.exec(local);
  if (!m) return null;
  const appId = Number(m[1]);
  return Number.isSafeInteger(appId) ? { appId, dialogId: m[2]! } : null;
}

const JOINED = Symbol('muc-joined');

export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();

  get(bare: string): Room | undefined {
    return this.rooms.get(bare);
  }

  obtain(jid: Jid, address: RoomAddress): Room {
    let room = this.rooms.get(jid.bare);
    if (!room) {
      room = { jid: jid.toBare(), appId: address.appId, dialogId: address.dialogId, occupants: new Map(), local: 0, joining: 0, remote: 0, inFlight: 0 };
      this.rooms.set(jid.bare, room);
    }
    return room;
  }

  /** Whether this session (full JID) is joined to the room. */
  isJoined(room: Room | undefined, session: C2sSession): boolean {
    const userId = session.user?.userId;
    return userId !== undefined && room?.occupants.get(userId)?.resources.get(session.jid!.toString()) === session;
  }

  /** Whether every occupant is on this node and nothing is on its way through the cluster. */
  isLocalOnly(room: Room): boolean {
    return room.remote === 0 && room.inFlight === 0;
  }

  addResource(room: Room, occupant: Occupant, session: C2sSession): void {
    room.occupants.set(occupant.userId, occupant);
    const jid = session.jid!.toString();
    if (!occupant.resources.has(jid)) room.local++;
    occupant.resources.set(jid, session);
    this.joinedBy(session).add(room.jid.bare);
  }

  addRemote(room: Room, occupant: Occupant, jid: string, node: string): void {
    room.occupants.set(occupant.userId, occupant);
    if (!occupant.remote.has(jid)) room.remote++;
    occupant.remote.set(jid, node);
  }

  /** Removes one resource of this node; returns true when the occupant has no resource left (and is gone). */
  removeResource(room: Room, occupant: Occupant, session: C2sSession): boolean {
    const jid = session.jid!.toString();
    if (occupant.resources.delete(jid)) room.local--;
    this.joinedBy(session).delete(room.jid.bare);
    return this.settle(room, occupant);
  }

  /** Removes one resource of another node; returns true when the occupant has no resource left (and is gone). */
  removeRemote(room: Room, occupant: Occupant, jid: string): boolean {
    if (occupant.remote.delete(jid)) room.remote--;
    return this.settle(room, occupant);
  }

  /** Removes the occupant with every resource. */
  removeOccupant(room: Room, occupant: Occupant): void {
    for (const session of occupant.resources.values()) this.joinedBy(session).delete(room.jid.bare);
    room.local -= occupant.resources.size;
    room.remote -= occupant.remote.size;
    occupant.resources.clear();
    occupant.remote.clear();
    this.settle(room, occupant);
  }

  /** A join finished (joined or not): the room goes when it holds nothing of this node. */
  joined(room: Room): void {
    room.joining--;
    this.forgetIfIdle(room);
  }

  private settle(room: Room, occupant: Occupant): boolean {
    const gone = occupant.resources.size === 0 && occupant.remote.size === 0;
    if (gone && room.occupants.get(occupant.userId) === occupant) room.occupants.delete(occupant.userId);
    this.forgetIfIdle(room);
    return gone;
  }

  private forgetIfIdle(room: Room): void {
    if (room.local === 0 && room.joining === 0 && this.rooms.get(room.jid.bare) === room) this.rooms.delete(room.jid.bare);
  }

  /** Every room this node has resources in. */
  all(): IterableIterator<Room> {
    return this.rooms.values();
  }

  /** The rooms a session has joined. */
  roomsOf(session: C2sSession): Room[] {
    const joined = session.data.get(JOINED) as Set<string> | undefined;
    if (!joined) return [];
    return [...joined].map((bare) => this.rooms.get(bare)).filter((r): r is Room => r !== undefined);
  }

  private joinedBy(session: C2sSession): Set<string> {
    let joined = session.data.get(JOINED) as Set<string> | undefined;
    if (!joined) {
      joined = new Set();
      session.data.set(JOINED, joined);
    }
    return joined;
  }
}
