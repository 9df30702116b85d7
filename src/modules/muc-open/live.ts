// Open rooms with occupants on this node: who is in them under which nick, with which role, from
// which sessions of this node and which resources of other nodes. Nicks are free text; each is held
// by one user (the user id it maps to) while that user is in the room; a user holds one nick per
// room, from any number of resources. A room is held here while a session of this node is in it
// (or joining).
import type { C2sSession } from '../../core/api.js';
import type { Dialog } from '../../storage/types.js';
import { Element, xml } from '../../xml/element.js';
import { StanzaError } from '../../xmpp/errors.js';
import { NS_MUC_USER, newId } from '../muc/index.js';
import type { Affiliation, RoomDoc } from './store.js';

export type Role = 'moderator' | 'participant' | 'visitor';

export interface OpenOccupant {
  nick: string;
  userId: number;
  role: Role;
  /** Joined resources of this node by full JID. */
  resources: Map<string, C2sSession>;
  /** Joined resources on other nodes: full JID → node. */
  remote: Map<string, string>;
  payload: Element[];
}

export interface OpenRoom {
  appId: number;
  /** The room's local part. */
  name: string;
  /** The bare room JID. */
  bare: string;
  doc: RoomDoc;
  dialog: Dialog;
  byNick: Map<string, OpenOccupant>;
  byUser: Map<number, OpenOccupant>;
  /** Sessions of this node joining (waiting for the other nodes' occupants): the room stays held. */
  joining: number;
}

export const affiliationOf = (doc: RoomDoc, userId: number): Affiliation | 'none' => doc.affiliations[String(userId)] ?? 'none';

/** Why a user may not enter a room (banned, not a member, a password), or null. */
export function barred(doc: RoomDoc, userId: number, password?: string): StanzaError | null {
  const affiliation = affiliationOf(doc, userId);
  if (affiliation === 'outcast') return new StanzaError('forbidden', 'You are banned from this room.');
  if (doc.config.membersOnly && affiliation === 'none') return new StanzaError('registration-required', 'This room is for members only.');
  if (doc.config.password !== '' && password !== doc.config.password) return new StanzaError('not-authorized', 'This room needs a password.');
  return null;
}

export function defaultRole(doc: RoomDoc, userId: number): Role {
  const affiliation = affiliationOf(doc, userId);
  if (affiliation === 'owner' || affiliation === 'admin') return 'moderator';
  return doc.config.moderated && affiliation === 'none' ? 'visitor' : 'participant';
}

const JOINED = Symbol('open-rooms-joined');

export class LiveRooms {
  private readonly rooms = new Map<string, OpenRoom>();
  private readonly byDialogId = new Map<string, OpenRoom>();

  static key(appId: number, bare: string): string {
    return `${appId} ${bare}`;
  }

  get(appId: number, bare: string): OpenRoom | undefined {
    return this.rooms.get(LiveRooms.key(appId, bare));
  }

  byDialog(dialogId: string): OpenRoom | undefined {
    return this.byDialogId.get(dialogId);
  }

  add(room: OpenRoom): void {
    this.rooms.set(LiveRooms.key(room.appId, room.bare), room);
    this.byDialogId.set(room.dialog.id, room);
  }

  /** Forgets the room when no session of this node is in it (or joining); true when it was forgotten. */
  dropIfEmpty(room: OpenRoom): boolean {
    if (room.joining > 0) return false;
    for (const occupant of room.byNick.values()) if (occupant.resources.size > 0) return false;
    this.forget(room);
    return true;
  }

  forget(room: OpenRoom): void {
    const key = LiveRooms.key(room.appId, room.bare);
    if (this.rooms.get(key) === room) this.rooms.delete(key);
    if (this.byDialogId.get(room.dialog.id) === room) this.byDialogId.delete(room.dialog.id);
    for (const occupant of room.byNick.values()) {
      for (const session of occupant.resources.values()) joinedBy(session).delete(key);
    }
  }

  addResource(room: OpenRoom, occupant: OpenOccupant, session: C2sSession): void {
    room.byNick.set(occupant.nick, occupant);
    room.byUser.set(occupant.userId, occupant);
    occupant.resources.set(session.jid!.toString(), session);
    joinedBy(session).add(LiveRooms.key(room.appId, room.bare));
  }

  /** Removes one resource; true when the occupant has none left (and left the room). */
  removeResource(room: OpenRoom, occupant: OpenOccupant, jid: string): boolean {
    const session = occupant.resources.get(jid);
    occupant.resources.delete(jid);
    if (session) joinedBy(session).delete(LiveRooms.key(room.appId, room.bare));
    return this.settle(room, occupant);
  }

  addRemote(room: OpenRoom, occupant: OpenOccupant, jid: string, node: string): void {
    room.byNick.set(occupant.nick, occupant);
    room.byUser.set(occupant.userId, occupant);
    occupant.remote.set(jid, node);
  }

  /** Removes a resource of another node; true when the occupant has none left (and left the room). */
  removeRemote(room: OpenRoom, occupant: OpenOccupant, jid: string): boolean {
    occupant.remote.delete(jid);
    return this.settle(room, occupant);
  }

  private settle(room: OpenRoom, occupant: OpenOccupant): boolean {
    if (occupant.resources.size > 0 || occupant.remote.size > 0) return false;
    if (room.byNick.get(occupant.nick) === occupant) room.byNick.delete(occupant.nick);
    if (room.byUser.get(occupant.userId) === occupant) room.byUser.delete(occupant.userId);
    return true;
  }

  rename(room: OpenRoom, occupant: OpenOccupant, nick: string): void {
    room.byNick.delete(occupant.nick);
    occupant.nick = nick;
    room.byNick.set(nick, occupant);
  }

  /** The occupant a session is joined as, if it is. */
  occupantOf(room: OpenRoom | undefined, session: C2sSession): OpenOccupant | undefined {
    const occupant = room?.byUser.get(session.user?.userId ?? -1);
    return occupant?.resources.get(session.jid!.toString()) === session ? occupant : undefined;
  }

  roomsOf(session: C2sSession): OpenRoom[] {
    const keys = session.data.get(JOINED) as Set<string> | undefined;
    return [...(keys ?? [])].map((k) => this.rooms.get(k)).filter((r): r is OpenRoom => r !== undefined);
  }

  all(): IterableIterator<OpenRoom> {
    return this.rooms.values();
  }
}

function joinedBy(session: C2sSession): Set<string> {
  let joined = session.data.get(JOINED) as Set<string> | undefined;
  if (!joined) {
    joined = new Set();
    session.data.set(JOINED, joined);
  }
  return joined;
}

export interface PresenceOptions {
  id?: string;
  unavailable?: boolean;
  statuses?: number[];
  /** A nick change: the new nick (with status 303). */
  newNick?: string;
  actor?: string;
  reason?: string;
  /** Affiliation and role as they are now (an outcast or a kicked occupant: role none). */
  affiliation?: string;
  role?: string;
  destroy?: boolean;
  /** The real JID in the item when the occupant's resources are already gone. */
  itemJid?: string;
}

/** An occupant's presence from the room (non-anonymous: the real JID is in every item). */
export function presenceOf(room: OpenRoom, occupant: OpenOccupant, to: string, opts: PresenceOptions = {}): Element {
  const x = xml('x', { xmlns: NS_MUC_USER });
  const item = x.c('item', {
    affiliation: opts.affiliation ?? affiliationOf(room.doc, occupant.userId),
    role: opts.role ?? (opts.unavailable ? 'none' : occupant.role),
  });
  const realJid = opts.itemJid ?? realJidOf(occupant);
  if (realJid) item.attrs.jid = realJid;
  if (opts.newNick) item.attrs.nick = opts.newNick;
  if (opts.actor) item.c('actor', { nick: opts.actor });
  if (opts.reason) item.c('reason').t(opts.reason);
  if (opts.destroy) x.c('destroy');
  for (const code of opts.statuses ?? []) x.c('status', { code: String(code) });
  const presence = xml('presence', { from: `${room.bare}/${occupant.nick}`, to, id: opts.id ?? newId() }, x);
  if (opts.unavailable) presence.attrs.type = 'unavailable';
  else for (const child of occupant.payload) presence.append(child.clone());
  return presence;
}

/** One real JID of the occupant (on this node if it has one here). */
export const realJidOf = (occupant: OpenOccupant): string | undefined =>
  occupant.resources.keys().next().value ?? occupant.remote.keys().next().value;

/** Every joined resource of this node in the room, with the occupant it belongs to. */
export function* resourcesOf(room: OpenRoom): Generator<[OpenOccupant, string, C2sSession]> {
  for (const occupant of room.byNick.values()) {
    for (const [jid, session] of occupant.resources) yield [occupant, jid, session];
  }
}

/** Everyone in the room gets `build(occupant's jid)`: a presence of `subject` with 110 for its own resources. */
export function broadcastPresence(room: OpenRoom, subject: OpenOccupant, opts: PresenceOptions, selfOpts: PresenceOptions = opts): void {
  for (const [occupant, jid, session] of resourcesOf(room)) {
    const mine = occupant === subject;
    const o = mine ? { ...selfOpts, statuses: [...(selfOpts.statuses ?? []), 110] } : opts;
    session.send(presenceOf(room, subject, jid, o));
  }
}
