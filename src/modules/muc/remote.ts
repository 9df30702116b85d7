// Occupants of a room on other cluster nodes, as this node learns of them from the room directory's
// events: their joins and leaves are shown to the occupants here, and the member list that arrives
// before a join of this node puts right what the room here lacks or has too much.
import type { PlacedMember, RoomMember } from '../../cluster/rooms.js';
import { Element } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { occupantPresence } from './presences.js';
import type { Occupant, Room, RoomRegistry } from './rooms.js';

const AFFILIATIONS = new Set(['owner', 'admin', 'member', 'none']);

/** The presence payload (children of `<presence>`) as the directory carries it. */
export const serializePayload = (payload: Element[]): string => new Element('presence', {}, payload.map((c) => c.clone())).toString();

/** One resource of an occupant of this node, as the directory lists it. */
export const memberOf = (occupant: Occupant, jid: string): RoomMember =>
  ({ jid, userId: occupant.userId, affiliation: occupant.affiliation, role: occupant.role, presence: serializePayload(occupant.payload) });

export interface RemoteOccupants {
  /** A resource of another node joined (or changed its presence). */
  joined(room: Room, member: PlacedMember): void;
  /** A resource of another node left. */
  left(room: Room, jid: string): void;
  /** The members on every node just before a join of this node. */
  reconcile(room: Room, members: PlacedMember[]): void;
}

/** `announceGone` shows an occupant's unavailable presence to the occupants of this node. */
export function remoteOccupants(
  rooms: RoomRegistry,
  self: string,
  announceGone: (room: Room, occupant: Occupant, itemJid: string) => void,
): RemoteOccupants {
  /** Adds a resource of another node; tells whether its occupant is new to the room and whether the resource was known. */
  function learn(room: Room, member: PlacedMember): { occupant: Occupant; isNew: boolean; known: boolean } {
    let occupant = room.occupants.get(member.userId);
    const isNew = occupant === undefined;
    occupant ??= {
      userId: member.userId,
      affiliation: (AFFILIATIONS.has(member.affiliation) ? member.affiliation : 'none') as Occupant['affiliation'],
      role: member.role === 'moderator' ? 'moderator' : 'participant',
      resources: new Map(),
      remote: new Map(),
      payload: [],
    };
    const known = occupant.remote.has(member.jid);
    occupant.payload = parseElement(member.presence)?.getChildren() ?? [];
    rooms.addRemote(room, occupant, member.jid, member.node);
    return { occupant, isNew, known };
  }

  function joined(room: Room, member: PlacedMember): void {
    const { occupant, isNew, known } = learn(room, member);
    if (!isNew && !known) return; // another resource of an occupant already here
    for (const other of room.occupants.values()) {
      for (const [jid, target] of other.resources) target.send(occupantPresence(room, occupant, jid, { itemJid: member.jid }));
    }
  }

  function left(room: Room, jid: string): void {
    const userId = parseUserLocal(Jid.parse(jid)?.local ?? '')?.userId;
    const occupant = userId === undefined ? undefined : room.occupants.get(userId);
    if (!occupant?.remote.has(jid)) return;
    if (rooms.removeRemote(room, occupant, jid)) announceGone(room, occupant, jid);
  }

  function reconcile(room: Room, members: PlacedMember[]): void {
    const listed = new Set(members.map((m) => m.jid));
    for (const occupant of [...room.occupants.values()]) {
      for (const jid of [...occupant.remote.keys()]) if (!listed.has(jid)) left(room, jid);
    }
    for (const member of members) {
      if (member.node === self) continue;
      if (room.occupants.get(member.userId)?.remote.has(member.jid)) learn(room, member);
      else joined(room, member);
    }
  }

  return { joined, left, reconcile };
}
