// Open rooms across a cluster, through the RoomDirectory the dialog rooms use (src/cluster/rooms.ts):
// each node holds the rooms its sessions are in, with the occupants of the other nodes (their nicks
// and roles) learnt from the directory's join, leave and members events. What concerns every
// occupant (groupchat, an occupant's presence with a role change or a removal, settings changed,
// destruction) is published to the room and handled by each node for its own sessions, all nodes
// in the same order; a private message goes to the nodes of its target's resources only. A remote
// join whose nick is already held by another user is ignored here: the joining node sees the
// holder in its snapshot and refuses itself (the first join Redis ran wins).
import type { PlacedMember, RoomMember } from '../../cluster/rooms.js';
import { Element } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { addressed, NS_MUC_USER } from '../muc/index.js';
import { directoryKey, parseDirectoryKey, type OpenRoomsContext } from './context.js';
import { affiliationOf, presenceOf, resourcesOf, type OpenOccupant, type OpenRoom, type Role } from './live.js';

const ROLES = new Set(['moderator', 'participant', 'visitor']);

const serializePayload = (payload: Element[]): string => new Element('presence', {}, payload.map((c) => c.clone())).toString();

const memberOf = (room: OpenRoom, occupant: OpenOccupant, jid: string): RoomMember => ({
  jid, userId: occupant.userId, nick: occupant.nick, affiliation: affiliationOf(room.doc, occupant.userId), role: occupant.role,
  presence: serializePayload(occupant.payload),
});

/** A resource of this node joins (or updates its presence or nick); with `snapshot`, the other nodes' occupants arrive first. */
export function joinDirectory(ctx: OpenRoomsContext, room: OpenRoom, occupant: OpenOccupant, jid: string, snapshot: boolean): Promise<void> {
  return ctx.directory.join(directoryKey(room.appId, room.bare), memberOf(room, occupant, jid), snapshot);
}

/** A resource of this node leaves the room across the cluster. */
export async function leaveDirectory(ctx: OpenRoomsContext, room: OpenRoom, jid: string): Promise<void> {
  if (!ctx.clustered) return;
  await ctx.directory.leave(directoryKey(room.appId, room.bare), jid).catch((err: unknown) => ctx.core.log.error({ err }, 'leaving an open room across the cluster failed'));
}

/**
 * Whether nobody is in the room on any node: a room not persistent is removed then. In a cluster,
 * Redis is asked, not this node's view (whose other nodes' leaves may still be on their way): of two
 * last occupants leaving on two nodes at once, the one who asks last finds the room empty.
 */
export async function nobodyIn(ctx: OpenRoomsContext, room: OpenRoom): Promise<boolean> {
  if (!ctx.clustered) return room.byNick.size === 0;
  return (await ctx.directory.members(directoryKey(room.appId, room.bare))).length === 0;
}

export function openCluster(ctx: OpenRoomsContext, destroyHere: (room: OpenRoom, reason: string | undefined) => void): void {
  const { core, directory, live, store, chat } = ctx;
  const self = directory.nodeId;
  const logFailure = (what: string) => (err: unknown): void => core.log.error({ err }, `${what} failed`);
  const join = (room: OpenRoom, occupant: OpenOccupant, jid: string, snapshot: boolean): Promise<void> => joinDirectory(ctx, room, occupant, jid, snapshot);
  const leave = (room: OpenRoom, jid: string): Promise<void> => leaveDirectory(ctx, room, jid);

  /** To this node's sessions in the room. */
  function toLocal(room: OpenRoom, stanza: Element, mine?: OpenOccupant): void {
    for (const [occupant, jid, session] of resourcesOf(room)) {
      const copy = addressed(stanza, jid);
      if (occupant === mine && copy.name === 'presence') {
        const x = copy.getChild('x', NS_MUC_USER);
        x?.c('status', { code: '110' });
      }
      session.send(copy);
    }
  }

  /** A resource of another node: tells whether it was taken (a nick held by someone else is not). */
  function remoteJoined(room: OpenRoom, member: PlacedMember): void {
    const nick = member.nick ?? String(member.userId);
    let occupant = room.byUser.get(member.userId);
    const holder = room.byNick.get(nick);
    if (holder && holder.userId !== member.userId) return;
    const known = occupant?.remote.has(member.jid) ?? false;
    if (occupant && occupant.nick !== nick && !known) return; // the joiner refuses itself: one nick per user
    const payload = parseElement(member.presence)?.getChildren() ?? [];
    if (!occupant) {
      const role = (ROLES.has(member.role) ? member.role : 'participant') as Role;
      occupant = { nick, userId: member.userId, role, resources: new Map(), remote: new Map(), payload };
      live.addRemote(room, occupant, member.jid, member.node);
      for (const [, jid, session] of resourcesOf(room)) session.send(presenceOf(room, occupant, jid));
      return;
    }
    occupant.payload = payload;
    if (!known) {
      live.addRemote(room, occupant, member.jid, member.node); // another resource of an occupant already in the room
      return;
    }
    if (occupant.nick !== nick) {
      // §7.6 from another node: unavailable from the old nick with 303, then available from the new one.
      for (const [, jid, session] of resourcesOf(room)) session.send(presenceOf(room, occupant, jid, { unavailable: true, role: occupant.role, newNick: nick, statuses: [303] }));
      live.rename(room, occupant, nick);
    }
    for (const [, jid, session] of resourcesOf(room)) session.send(presenceOf(room, occupant, jid));
  }

  function remoteLeft(room: OpenRoom, jid: string): void {
    for (const occupant of room.byNick.values()) {
      if (!occupant.remote.has(jid)) continue;
      if (live.removeRemote(room, occupant, jid)) {
        for (const [, other, session] of resourcesOf(room)) session.send(presenceOf(room, occupant, other, { unavailable: true, itemJid: jid }));
      }
      return;
    }
  }

  /** The occupants on other nodes just before a join of this node: what the room here lacks or has too much is put right. */
  function reconcile(room: OpenRoom, members: PlacedMember[]): void {
    const listed = new Set(members.map((m) => m.jid));
    for (const occupant of [...room.byNick.values()]) {
      for (const jid of [...occupant.remote.keys()]) if (!listed.has(jid)) remoteLeft(room, jid);
    }
    for (const member of members) if (member.node !== self) remoteJoined(room, member);
  }

  /** A presence of an occupant from some node, with its change (a role, or removed from the room). */
  function occupantChanged(room: OpenRoom, userId: number, raw: string, role: string | undefined, removed: boolean | undefined): void {
    const occupant = room.byUser.get(userId);
    const presence = parseElement(raw);
    if (!occupant || !presence) return;
    if (role && ROLES.has(role)) occupant.role = role as Role;
    toLocal(room, presence, occupant);
    if (!removed) return;
    const mine = [...occupant.resources.keys()];
    for (const jid of mine) live.removeResource(room, occupant, jid);
    for (const jid of [...occupant.remote.keys()]) live.removeRemote(room, occupant, jid);
    ctx.serial(room.appId, room.bare, async () => {
      for (const jid of mine) await leave(room, jid);
      if (live.dropIfEmpty(room) && !room.doc.config.persistent && await nobodyIn(ctx, room)) await store.remove(room.appId, room.name, room.doc);
    }).catch(logFailure('removing an occupant of an open room'));
  }

  /** Settings changed on another node: read again (the subject, the configuration, affiliations, the dialog's occupants). */
  function reload(room: OpenRoom): void {
    ctx.serial(room.appId, room.bare, async () => {
      const [doc, dialog] = await Promise.all([store.get(room.appId, room.name), chat.findDialog(room.appId, room.dialog.id)]);
      if (doc && doc.dialogId === room.dialog.id) room.doc = doc;
      if (dialog) room.dialog = dialog;
    }).catch(logFailure('reading an open room again'));
  }

  directory.listen({
    event(key, event, node) {
      const address = parseDirectoryKey(key);
      if (!address) return;
      const room = live.get(address.appId, address.bare);
      if (!room) return;
      switch (event.type) {
        case 'message': {
          const message = parseElement(event.stanza);
          if (!message) return;
          if (!event.userIds) return toLocal(room, message);
          // A private message: to these occupants' resources here.
          for (const userId of event.userIds) {
            for (const [jid, session] of room.byUser.get(userId)?.resources ?? []) session.send(addressed(message, jid));
          }
          return;
        }
        case 'occupant':
          return occupantChanged(room, event.userId, event.presence, event.role, event.removed);
        case 'changed':
          if (node !== self) reload(room);
          return;
        case 'destroy':
          return destroyHere(room, event.reason);
        case 'members':
          return reconcile(room, event.members);
        case 'join':
          if (node !== self) remoteJoined(room, { ...event.member, node });
          return;
        case 'leave':
          return remoteLeft(room, event.jid);
        case 'gone':
          for (const jid of event.jids) remoteLeft(room, jid);
          return;
        case 'kick':
          return;
      }
    },
    async rejoin() {
      for (const room of [...live.all()]) {
        for (const occupant of [...room.byNick.values()]) {
          for (const jid of [...occupant.resources.keys()]) await join(room, occupant, jid, true).catch(logFailure('joining an open room again'));
        }
      }
    },
  });

}
