// Joining, leaving, presence updates and nick changes in open rooms (XEP-0045 §7.2, §7.6, §7.7,
// §7.14); the first join of a room that does not exist creates it (§10.1), as a group
// dialog owned by the creator; whoever joins becomes an occupant of the dialog. In a cluster, the
// creation runs under a cluster-wide lock (a second creator finds the first's room), and a join
// learns the other nodes' occupants before its nick is settled (cluster.ts).
import type { C2sSession } from '../../core/api.js';
import { ApiError } from '../../chat/errors.js';
import { xml, type Element } from '../../xml/element.js';
import type { Jid } from '../../xmpp/jid.js';
import { StanzaError, errorReply } from '../../xmpp/errors.js';
import { NS_DELAY } from '../../xmpp/ns.js';
import { NS_MUC, NS_MUC_USER, addressed, historyRequest, newId } from '../muc/index.js';
import { defaultConfig } from './config.js';
import type { OpenRoomsContext } from './context.js';
import { affiliationOf, barred, broadcastPresence, defaultRole, presenceOf, resourcesOf, type OpenOccupant, type OpenRoom } from './live.js';
import { NICK_MAX, ROOM_NAME_MAX, ROOMS_PER_USER } from './limits.js';
import { historyMessage } from './messages.js';
import { joinDirectory, leaveDirectory, nobodyIn } from './cluster.js';

const GROUP = '2';
/** How long a room's creation may hold the cluster-wide lock, and how long another creator waits for it. */
const CREATE_LOCK_MS = 15_000;
const CREATE_WAIT_MS = 10_000;
const CREATE_POLL_MS = 50;

/** An error presence from the room for a join or nick change (the join's `<x xmlns=muc>` kept). */
function refuse(session: C2sSession, stanza: Element, error: StanzaError): void {
  const reply = errorReply(stanza, error);
  reply.attrs.to = session.jid!.toString();
  if (!reply.attrs.id) reply.attrs.id = newId();
  session.send(reply);
}

/**
 * Why a user cannot use a nick, if they cannot. A nick of digits only is a user id (the nick of
 * messages from users not in the room, QuickBlox clients among them): only that user takes it.
 */
export function badNick(nick: string, userId: number): string | null {
  if ([...nick].length > NICK_MAX) return `A nick has at most ${NICK_MAX} characters.`;
  if (nick.trim() !== nick || nick === '') return 'A nick cannot start or end with white space.';
  if (/^[0-9]+$/.test(nick) && nick !== String(userId)) return 'A nick of digits only is a user id: only your own.';
  return null;
}

export function openPresences(ctx: OpenRoomsContext) {
  const { core, chat, store, live } = ctx;

  /** The room, created by this join unless another node created it meanwhile. */
  async function create(session: C2sSession, to: Jid): Promise<{ room: OpenRoom; created: boolean }> {
    const { appId, userId } = session.user!;
    if ([...to.local].length > ROOM_NAME_MAX) throw new StanzaError('not-acceptable', `A room name has at most ${ROOM_NAME_MAX} characters.`);
    const release = await ctx.directory.lock(`open-room:${appId}:${to.local}`, CREATE_LOCK_MS);
    if (!release) return { room: await createdElsewhere(appId, to), created: false };
    try {
      const existing = await ctx.load(appId, to.local, to.bare);
      if (existing) return { room: existing, created: false };
      if ((await store.createdBy(appId, userId)) >= ROOMS_PER_USER) throw new StanzaError('not-allowed', `A user creates at most ${ROOMS_PER_USER} rooms.`);
      const config = defaultConfig(to.local);
      const view = await chat.createDialog({ appId, userId }, { type: GROUP, name: config.title, occupants_ids: String(userId) });
      const dialog = (await chat.findDialog(appId, view._id))!;
      const doc = { dialogId: dialog.id, creatorId: userId, config, affiliations: { [String(userId)]: 'owner' as const }, subject: '', subjectBy: '' };
      await store.create(appId, to.local, doc);
      return { room: { appId, name: to.local, bare: to.bare, doc, dialog, byNick: new Map(), byUser: new Map(), joining: 0 }, created: true };
    } finally {
      await release().catch((err: unknown) => core.log.error({ err }, 'releasing the lock of a new open room failed'));
    }
  }

  /** Another node is creating the room: its room, once stored. */
  async function createdElsewhere(appId: number, to: Jid): Promise<OpenRoom> {
    const until = Date.now() + CREATE_WAIT_MS;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, CREATE_POLL_MS));
      const room = await ctx.load(appId, to.local, to.bare);
      if (room) return room;
    }
    throw new StanzaError('resource-constraint', 'The room is being created; try again.');
  }

  /** The checks of §7.2.6–§7.2.10 for a user entering an existing room. */
  function admission(room: OpenRoom, userId: number, nick: string, password: string | undefined): StanzaError | null {
    const refused = barred(room.doc, userId, password);
    if (refused) return refused;
    const affiliation = affiliationOf(room.doc, userId);
    const holder = room.byNick.get(nick);
    if (holder && holder.userId !== userId) return new StanzaError('conflict', 'That nick is taken in this room.');
    const mine = room.byUser.get(userId);
    if (mine && mine.nick !== nick) return new StanzaError('not-acceptable', `You are in this room as ${mine.nick}; join with that nick or change it.`);
    const privileged = affiliation === 'owner' || affiliation === 'admin';
    if (!mine && !privileged && room.byNick.size >= room.doc.config.maxUsers) return new StanzaError('service-unavailable', 'This room is full.');
    return null;
  }

  async function join(stanza: Element, session: C2sSession, to: Jid): Promise<void> {
    const { appId, userId } = session.user!;
    const me = session.jid!.toString();
    const muc = stanza.getChild('x', NS_MUC);
    const nick = to.resource;
    const invalid = badNick(nick, userId);
    if (invalid) return refuse(session, stanza, new StanzaError('not-acceptable', invalid));
    let room = await ctx.load(appId, to.local, to.bare);
    let created = false;
    if (!room) ({ room, created } = await create(session, to));
    const password = muc?.getChild('password')?.text();
    if (!created) {
      const refused = admission(room, userId, nick, password);
      if (refused) return refuse(session, stanza, refused);
    }
    const payload = stanza.getChildren().filter((c) => !(c.localName === 'x' && (c.attrs.xmlns === NS_MUC || c.attrs.xmlns === NS_MUC_USER)));
    let existing = room.byUser.get(userId);
    let occupant: OpenOccupant = existing ?? { nick, userId, role: defaultRole(room.doc, userId), resources: new Map(), remote: new Map(), payload };
    occupant.payload = payload;
    if (ctx.clustered) {
      live.add(room);
      if (!(await joinAcrossCluster(room, occupant, session, created, password))) {
        return refuse(session, stanza, admission(room, userId, nick, password) ?? new StanzaError('internal-server-error', 'The room could not be joined; try again.'));
      }
      existing = room.byUser.get(userId) ?? existing; // in the room already from another node
      if (existing) occupant = existing;
      occupant.payload = payload;
    }
    try {
      if (!created) await ctx.setOccupant(room, userId, true);
    } catch (err) {
      await leaveDirectory(ctx, room, me);
      live.dropIfEmpty(room);
      throw err;
    }
    live.add(room);
    for (const other of room.byNick.values()) {
      if (other !== occupant) session.send(presenceOf(room, other, me));
    }
    live.addResource(room, occupant, session);
    if (!existing) {
      for (const [other, jid, target] of resourcesOf(room)) if (other !== occupant) target.send(presenceOf(room, occupant, jid));
    }
    // 100: real JIDs are visible; 170: the room's messages are stored (they are the dialog's history).
    const statuses = created ? [100, 110, 170, 201] : [100, 110, 170];
    session.send(presenceOf(room, occupant, me, { id: stanza.attrs.id, statuses }));
    if (!created) await sendHistory(room, session, muc);
    session.send(xml('message', { type: 'groupchat', from: room.doc.subjectBy ? `${room.bare}/${room.doc.subjectBy}` : room.bare, to: me, id: newId() },
      xml('subject', null, room.doc.subject)));
  }

  /**
   * Enters the room in the directory, learning the occupants of the other nodes first; then checks
   * the join again against them (a nick another node's user took first). False: not joined.
   */
  async function joinAcrossCluster(room: OpenRoom, occupant: OpenOccupant, session: C2sSession, created: boolean, password: string | undefined): Promise<boolean> {
    const me = session.jid!.toString();
    room.joining++;
    let ok = true;
    try {
      await joinDirectory(ctx, room, occupant, me, true);
    } catch (err) {
      core.log.error({ err }, 'joining an open room across the cluster failed');
      ok = false;
    } finally {
      room.joining--;
    }
    if (ok && session.state !== 'closed' && (created || admission(room, occupant.userId, occupant.nick, password) === null)) return true;
    await leaveDirectory(ctx, room, me);
    live.dropIfEmpty(room);
    return false;
  }

  async function sendHistory(room: OpenRoom, session: C2sSession, muc: Element | undefined): Promise<void> {
    const asked = muc?.getChild('history') ? historyRequest(muc) : { limit: room.doc.config.historyLength };
    const limit = Math.min(asked?.limit ?? 0, room.doc.config.historyLength);
    if (limit === 0) return;
    const records = await ctx.history.listMessages({
      dialogId: room.dialog.id,
      viewerId: session.user!.userId,
      filters: asked?.since !== undefined ? [{ field: 'date_sent', op: 'gte', value: asked.since }] : [],
      sort: { field: 'date_sent', direction: 'desc' },
      limit,
      skip: 0,
    });
    const to = session.jid!.toString();
    for (const record of records.reverse()) {
      const message = historyMessage(room, record);
      message.append(xml('delay', { xmlns: NS_DELAY, from: room.bare, stamp: new Date(record.dateSent * 1000).toISOString() }));
      const slow = session.whenDrained();
      if (slow) await slow;
      session.send(addressed(message, to));
    }
  }

  /** The other nodes see a presence or nick change as a new join of the same resource. */
  async function tellOtherNodes(room: OpenRoom, occupant: OpenOccupant, session: C2sSession): Promise<void> {
    if (!ctx.clustered) return;
    await joinDirectory(ctx, room, occupant, session.jid!.toString(), false).catch((err: unknown) => core.log.error({ err }, 'announcing an open room presence failed'));
  }

  async function update(stanza: Element, session: C2sSession, room: OpenRoom, occupant: OpenOccupant): Promise<void> {
    occupant.payload = stanza.getChildren().filter((c) => !(c.localName === 'x' && (c.attrs.xmlns === NS_MUC || c.attrs.xmlns === NS_MUC_USER)));
    broadcastPresence(room, occupant, {}, { id: stanza.attrs.id });
    await tellOtherNodes(room, occupant, session);
  }

  /** §7.6: unavailable from the old nick with 303 and the new nick, then available from the new one. */
  async function changeNick(stanza: Element, session: C2sSession, room: OpenRoom, occupant: OpenOccupant, nick: string): Promise<void> {
    const invalid = badNick(nick, occupant.userId);
    if (invalid) return refuse(session, stanza, new StanzaError('not-acceptable', invalid));
    if (room.byNick.has(nick)) return refuse(session, stanza, new StanzaError('conflict', 'That nick is taken in this room.'));
    broadcastPresence(room, occupant, { unavailable: true, role: occupant.role, newNick: nick, statuses: [303] });
    live.rename(room, occupant, nick);
    broadcastPresence(room, occupant, {}, { id: stanza.attrs.id });
    await tellOtherNodes(room, occupant, session);
  }

  async function leave(stanza: Element, session: C2sSession, to: Jid): Promise<void> {
    const room = live.get(session.user!.appId, to.bare);
    const occupant = live.occupantOf(room, session);
    const me = session.jid!.toString();
    if (!room || !occupant) {
      session.send(xml('presence', { from: to.toString(), to: me, type: 'unavailable', id: stanza.attrs.id ?? newId() },
        xml('x', { xmlns: NS_MUC_USER }, xml('item', { affiliation: 'none', role: 'none' }), xml('status', { code: '110' }))));
      return;
    }
    // The leaver hears last, once the room is let go of when it was the last one anywhere: a join
    // that follows the answer finds the room as the leave left it.
    try {
      await depart(room, occupant, me);
    } finally {
      session.send(presenceOf(room, occupant, me, { id: stanza.attrs.id, unavailable: true, statuses: [110] }));
    }
  }

  /** One resource leaves; unless already told, the others see the occupant go when it was its last; an empty room is let go. */
  async function depart(room: OpenRoom, occupant: OpenOccupant, jid: string, announce = true): Promise<void> {
    if (live.removeResource(room, occupant, jid) && announce) {
      for (const [, other, target] of resourcesOf(room)) target.send(presenceOf(room, occupant, other, { unavailable: true, itemJid: jid }));
    }
    await leaveDirectory(ctx, room, jid);
    if (live.dropIfEmpty(room) && !room.doc.config.persistent && await nobodyIn(ctx, room)) await store.remove(room.appId, room.name, room.doc);
  }

  async function presence(stanza: Element, session: C2sSession, to: Jid): Promise<void> {
    const type = stanza.attrs.type;
    if (type === 'unavailable') return leave(stanza, session, to);
    if (type !== undefined) return; // subscriptions, probes and errors are not for rooms
    if (to.isBare) return refuse(session, stanza, new StanzaError('jid-malformed', 'Join a room as <room>/<nick>.'));
    const room = live.get(session.user!.appId, to.bare);
    const occupant = live.occupantOf(room, session);
    try {
      if (!room || !occupant) return await join(stanza, session, to);
      if (occupant.nick === to.resource) return await update(stanza, session, room, occupant);
      return await changeNick(stanza, session, room, occupant, to.resource);
    } catch (err) {
      const error = err instanceof StanzaError ? err
        : err instanceof ApiError ? new StanzaError('not-acceptable', err.message) : new StanzaError('internal-server-error');
      if (!(err instanceof StanzaError) && !(err instanceof ApiError)) core.log.error({ err }, 'joining an open room failed');
      refuse(session, stanza, error);
    }
  }

  /** A session that goes unavailable or ends leaves every open room it is in. */
  async function leaveAll(session: C2sSession): Promise<void> {
    for (const room of live.roomsOf(session)) {
      await ctx.serial(room.appId, room.bare, async () => {
        const occupant = live.occupantOf(room, session);
        if (occupant) await depart(room, occupant, session.jid!.toString());
      });
    }
  }

  return { presence, leaveAll, depart };
}
