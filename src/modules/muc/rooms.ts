// Who is in which room, on this node. Rooms themselves are QuickBlox dialogs (ChatService); this
// registry only holds live occupancy: per room, the occupants by nick (= user id), and for each
// occupant the sessions (resources) that joined with that nick.
import type { C2sSession } from '../../core/session.js';
import type { Element } from '../../xml/element.js';
import { Jid } from '../../xmpp/jid.js';

export interface Occupant {
  userId: number;
  affiliation: 'owner' | 'admin' | 'member' | 'none';
  role: 'moderator' | 'participant';
  /** Joined resources by full JID, in join order. */
  resources: Map<string, C2sSession>;
  /** The presence payload (show, status, priority ...) the occupant last sent to the room. */
  payload: Element[];
}

export interface Room {
  /** The bare room JID. */
  jid: Jid;
  appId: number;
  dialogId: string;
  occupants: Map<number, Occupant>;
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
      room = { jid: jid.toBare(), appId: address.appId, dialogId: address.dialogId, occupants: new Map() };
      this.rooms.set(jid.bare, room);
    }
    return room;
  }

  /** Whether this session (full JID) is joined to the room. */
  isJoined(room: Room | undefined, session: C2sSession): boolean {
    const userId = session.user?.userId;
    return userId !== undefined && room?.occupants.get(userId)?.resources.get(session.jid!.toString()) === session;
  }

  addResource(room: Room, occupant: Occupant, session: C2sSession): void {
    room.occupants.set(occupant.userId, occupant);
    occupant.resources.set(session.jid!.toString(), session);
    this.joinedBy(session).add(room.jid.bare);
  }

  /** Removes one resource; returns true when the occupant has no resource left (and is gone). */
  removeResource(room: Room, occupant: Occupant, session: C2sSession): boolean {
    occupant.resources.delete(session.jid!.toString());
    this.joinedBy(session).delete(room.jid.bare);
    if (occupant.resources.size > 0) return false;
    this.removeOccupant(room, occupant);
    return true;
  }

  /** Removes the occupant with every resource. */
  removeOccupant(room: Room, occupant: Occupant): void {
    for (const session of occupant.resources.values()) this.joinedBy(session).delete(room.jid.bare);
    occupant.resources.clear();
    room.occupants.delete(occupant.userId);
    if (room.occupants.size === 0) this.rooms.delete(room.jid.bare);
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
