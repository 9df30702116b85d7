// Group chat (XEP-0045 as QuickBlox uses it). Rooms are the QuickBlox dialogs of types 1 and 2,
// addressed `<appId>_<dialogId>@muc.<domain>`; nothing about them is stored here, only who is
// joined (RoomRegistry). Occupants join with their user id as nick; the join answer is the
// self-presence with the join's id and status 110 first; groupchat messages are stored through
// ChatService when `save_to_history=1` and reflected to every joined resource, the sender's
// included. REST `pull_all` kicks (status 301), a deleted dialog empties its room, and REST
// `send_to_chat=1` on a group dialog is delivered here. A stored message's reflection carries
// `<stanza-id by=room>` = its `_id`. The open rooms of standard clients (muc-open), which are
// dialogs too, plug in through a RoomBridge: a further join rule, and a copy of what rooms relay.
//
// Occupants on other cluster nodes come from a RoomDirectory: their joins, leaves and presences
// arrive as room events, and a room with occupants elsewhere sends its messages, kicks and
// destruction through the directory, to every node of the room (this one too) in one step, so
// that all occupants get them in the same order. A room whose occupants are all here never asks.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { ApiError } from '../../chat/errors.js';
import { newObjectId, normalizeObjectId } from '../../chat/objectid.js';
import type { ChatService } from '../../chat/service.js';
import type { ChatMessage, ChatStore, Dialog } from '../../storage/types.js';
import type { RoomDirectory, RoomEvent } from '../../cluster/rooms.js';
import { Element, xml } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import { NS_CHAT_MARKERS, readExtraParams, storedGroupchat } from '../../qb/index.js';
import { parseRoomLocal, RoomRegistry, type Occupant, type Room, type RoomAddress } from './rooms.js';
import { NS_MUC, NS_MUC_USER, addressed, newId, occupantPresence, refuseJoin } from './presences.js';
import { historyRequest, sendHistory } from './history.js';
import { roomDiscoModule } from './disco.js';
import { addStanzaId, type RoomBridge } from './bridge.js';
import { relayedCopy } from './relayed.js';
import { memberOf, remoteOccupants, serializePayload } from './remote.js';

export { NS_MUC, NS_MUC_USER, addressed, newId } from './presences.js';
export { iqResult } from './disco.js';
export { addStanzaId, NS_SID, type RoomBridge } from './bridge.js';
export { historyRequest, type HistoryRequest } from './history.js';
export { parseRoomLocal } from './rooms.js';


const PUBLIC_GROUP = 1;
const PRIVATE = 3;
const NO_SUCH_ROOM = 'There is no such room.';
const CANNOT_POST = 'Insufficient privileges to send groupchat message.';


/** Group dialogs need a join before posting unless `is_join_required=0`; public dialogs always do. */
const joinRequired = (dialog: Dialog): boolean => dialog.type === PUBLIC_GROUP || dialog.isJoinRequired;


export interface MucModule {
  readonly rooms: RoomRegistry;
  /** The cluster's room directory, which the open rooms (muc-open) share. */
  readonly directory: RoomDirectory;
  /** Plugs in another view of the same dialogs (open rooms): a join rule and a copy of what rooms relay. */
  bridge(bridge: RoomBridge): void;
  /** A message (from `<room>/<userId>`, QuickBlox-shaped) to the dialog room's occupants on every node. */
  relayToDialogRoom(dialog: Dialog, message: Element): Promise<void>;
}

export function mucModule(core: ModuleApi, chat: ChatService, history: ChatStore, directory: RoomDirectory): MucModule {
  const rooms = new RoomRegistry();
  const userJid = (appId: number, userId: number): string => `${userId}-${appId}@${core.domain}`;
  const self = directory.nodeId;
  let bridge: RoomBridge | null = null;

  // ---- presences ------------------------------------------------------------------------------

  /** The room and dialog behind an address of the sender's application; null when there is none. */
  async function lookup(to: Jid, appId: number): Promise<{ address: RoomAddress; dialog: Dialog } | null> {
    const address = parseRoomLocal(to.local);
    if (!address || address.appId !== appId) return null;
    const dialog = await chat.findDialog(address.appId, address.dialogId);
    if (!dialog || dialog.type === PRIVATE) return null;
    return { address, dialog };
  }

  function standing(dialog: Dialog, userId: number): Pick<Occupant, 'affiliation' | 'role'> {
    if (dialog.ownerId === userId || chat.isManager(dialog, userId) || dialog.type !== PUBLIC_GROUP) return { affiliation: 'admin', role: 'moderator' };
    return { affiliation: 'none', role: 'participant' };
  }

  async function join(stanza: Element, session: C2sSession, to: Jid): Promise<true> {
    const user = session.user!;
    const found = await lookup(to, user.appId);
    if (!found) return refuseJoin(stanza, session, new StanzaError('item-not-found', NO_SUCH_ROOM));
    const { address, dialog } = found;
    if (to.resource !== String(user.userId)) return refuseJoin(stanza, session, new StanzaError('not-acceptable', 'The nick in a room is your user id.'));
    if (!chat.canUseRoom(dialog, user.userId)) return refuseJoin(stanza, session, new StanzaError('registration-required', 'You are not an occupant of this dialog.'));
    if (!joinRequired(dialog)) return refuseJoin(stanza, session, new StanzaError('not-allowed', 'This dialog is used without joining (is_join_required=0).'));
    const refused = bridge ? await bridge.admit(dialog, user.userId) : null;
    if (refused) return refuseJoin(stanza, session, refused);

    const me = session.jid!.toString();
    const muc = stanza.getChild('x', NS_MUC);
    const payload = stanza.getChildren().filter((c) => !(c.localName === 'x' && (c.attrs.xmlns === NS_MUC || c.attrs.xmlns === NS_MUC_USER)));
    const current = rooms.get(to.bare);
    const occupantNow = current?.occupants.get(user.userId);
    if (current && occupantNow && rooms.isJoined(current, session) && !muc) {
      // A presence update from an occupant: everyone sees it, the sender with status 110.
      occupantNow.payload = payload;
      for (const other of current.occupants.values()) {
        for (const [jid, target] of other.resources) {
          const mine = other === occupantNow;
          target.send(occupantPresence(current, occupantNow, jid, { id: mine ? stanza.attrs.id : undefined, statuses: mine ? [110] : [], itemJid: me }));
        }
      }
      if (directory.enabled) await directory.join(to.bare, memberOf(occupantNow, me), false).catch(logFailure('announcing a room presence'));
      return true;
    }

    // The room's occupants on other nodes arrive (as a `members` event) before the answer is built.
    const room = rooms.obtain(to, address);
    room.joining++;
    let failed = false;
    if (directory.enabled) {
      const { affiliation, role } = occupantNow ?? standing(dialog, user.userId);
      await directory.join(to.bare, { jid: me, userId: user.userId, affiliation, role, presence: serializePayload(payload) }, true).catch((err: unknown) => {
        logFailure('joining a room across the cluster')(err);
        failed = true;
      });
    }
    if (failed || session.state === 'closed') {
      rooms.joined(room);
      if (directory.enabled && !rooms.isJoined(room, session)) await leaveDirectory(to.bare, me);
      return failed ? refuseJoin(stanza, session, new StanzaError('internal-server-error', 'The room could not be joined; try again.')) : true;
    }
    const existing = room.occupants.get(user.userId);
    const occupant: Occupant = existing ?? { userId: user.userId, ...standing(dialog, user.userId), resources: new Map(), remote: new Map(), payload };
    occupant.payload = payload;

    // XEP-0045 §7.2.3 order: the others' presences, the joiner's presence to the others, the self-presence.
    for (const other of room.occupants.values()) {
      if (other !== occupant) session.send(occupantPresence(room, other, me));
    }
    if (!existing) {
      for (const other of room.occupants.values()) {
        for (const jid of other.resources.keys()) other.resources.get(jid)!.send(occupantPresence(room, occupant, jid, { itemJid: me }));
      }
    }
    const rejoining = rooms.isJoined(room, session);
    rooms.addResource(room, occupant, session);
    rooms.joined(room);
    session.send(occupantPresence(room, occupant, me, { id: stanza.attrs.id, statuses: [110], itemJid: me }));
    // A join of a resource already in the room got its history the first time.
    const wanted = rejoining ? null : historyRequest(muc);
    if (wanted) await sendHistory(history, room, dialog, session, wanted);
    return true;
  }

  async function leave(stanza: Element, session: C2sSession, to: Jid): Promise<true> {
    const room = rooms.get(to.bare);
    const occupant = room?.occupants.get(session.user!.userId);
    const me = session.jid!.toString();
    if (!room || !occupant || occupant.resources.get(me) !== session) {
      // Not in the room: answer the leave anyway so that a client waiting for it is not left hanging.
      if (to.resource === String(session.user!.userId) && parseRoomLocal(to.local)?.appId === session.user!.appId) {
        session.send(xml('presence', { from: to.toString(), to: me, type: 'unavailable', id: stanza.attrs.id ?? newId() },
          xml('x', { xmlns: NS_MUC_USER }, xml('item', { affiliation: 'none', role: 'none' }), xml('status', { code: '110' }))));
      }
      return true;
    }
    const answer = occupantPresence(room, occupant, me, { id: stanza.attrs.id, type: 'unavailable', statuses: [110], itemJid: me });
    depart(room, occupant, session);
    session.send(answer);
    await leaveDirectory(room.jid.bare, me);
    return true;
  }

  /** One resource of this node leaves; when it was the occupant's last anywhere, the others here see the occupant go. */
  function depart(room: Room, occupant: Occupant, session: C2sSession): void {
    if (rooms.removeResource(room, occupant, session)) announceGone(room, occupant, session.jid!.toString());
  }

  /** The occupant's unavailable presence to every joined resource of this node. */
  function announceGone(room: Room, occupant: Occupant, itemJid: string | undefined): void {
    for (const other of room.occupants.values()) {
      if (other === occupant) continue;
      for (const [jid, target] of other.resources) target.send(occupantPresence(room, occupant, jid, { type: 'unavailable', itemJid }));
    }
  }

  /** Removes an occupant's resources on this node: `self` is what each of them gets. */
  function evict(room: Room, occupant: Occupant, self: (jid: string) => Element | null): void {
    const resources = [...occupant.resources];
    let gone = false;
    for (const [, session] of resources) gone = rooms.removeResource(room, occupant, session);
    for (const [jid, session] of resources) {
      const presence = self(jid);
      if (presence) session.send(presence);
    }
    if (gone) announceGone(room, occupant, resources[0]?.[0]);
    for (const [jid] of resources) void leaveDirectory(room.jid.bare, jid);
  }

  const logFailure = (what: string) => (err: unknown): void => core.log.error({ err }, `${what} failed`);

  /** This node's resource leaves the room in the directory (the other nodes hear of it). */
  async function leaveDirectory(bare: string, jid: string): Promise<void> {
    if (directory.enabled) await directory.leave(bare, jid).catch(logFailure('leaving a room across the cluster'));
  }

  core.on('presence/muc', 'rooms', async ({ stanza, to, origin }: RouteContext) => {
    const session = origin;
    if (!session?.jid || !session.user) return true;
    const type = stanza.attrs.type;
    if (!to.local) return true;
    if (type === undefined) {
      if (to.isBare) return refuseJoin(stanza, session, new StanzaError('jid-malformed', 'Join a room as <room>/<your user id>.'));
      return join(stanza, session, to);
    }
    if (type === 'unavailable') return leave(stanza, session, to);
    return true; // subscriptions, probes and errors are not for rooms
  });

  // An unavailable broadcast takes the session out of every room (RFC 6121 / XEP-0045 §7.14).
  const leaveAll = async (session: C2sSession): Promise<void> => {
    const left: string[] = [];
    for (const room of rooms.roomsOf(session)) {
      const occupant = room.occupants.get(session.user!.userId);
      if (!occupant) continue;
      depart(room, occupant, session);
      left.push(room.jid.bare);
    }
    await Promise.all(left.map((bare) => leaveDirectory(bare, session.jid!.toString())));
  };
  core.on('presence/broadcast', 'rooms', async ({ stanza, origin }: RouteContext) => {
    if (origin && stanza.attrs.type === 'unavailable') await leaveAll(origin);
    return undefined;
  });
  core.on('session/closed', 'rooms', async ({ session }: { session: C2sSession }) => {
    await leaveAll(session);
    return undefined;
  });
  // Resumed on another node: room occupancy does not travel with the session (the client joins again).
  core.on('session/migrated', 'rooms', ({ session }: { session: C2sSession }) => {
    leaveAll(session);
    return undefined;
  });

  // ---- messages -------------------------------------------------------------------------------

  /** A room's message to the joined resources of this node. */
  function deliverToJoined(room: Room | undefined, message: Element): void {
    for (const occupant of room?.occupants.values() ?? []) {
      for (const [jid, session] of occupant.resources) session.send(addressed(message, jid));
    }
  }

  /** A message of a room used without joining (is_join_required=0) to the available resources of its occupants on this node. */
  function deliverToAccounts(appId: number, userIds: readonly number[], message: Element): void {
    for (const userId of userIds) {
      for (const session of core.sessions.available(userJid(appId, userId))) session.send(addressed(message, session.jid!.toString()));
    }
  }

  /**
   * A room's event for every node of the room: handled here at once when all its occupants are here
   * (or there is no cluster), else published, this node getting it back in the room's order.
   */
  async function dispatch(bare: string, event: () => RoomEvent, here: () => void): Promise<void> {
    const room = rooms.get(bare);
    if (!directory.enabled || (room && rooms.isLocalOnly(room))) return here();
    if (room) room.inFlight++;
    try {
      await directory.publish(bare, event());
    } catch (err) {
      if (room && room.inFlight > 0) room.inFlight--;
      logFailure('publishing a room event')(err);
      here(); // the occupants of this node at least
    }
  }

  /** A room's message to its occupants on every node. */
  async function relay(bare: string, dialog: Dialog, message: Element): Promise<void> {
    if (joinRequired(dialog)) return dispatch(bare, () => ({ type: 'message', stanza: message.toString() }), () => deliverToJoined(rooms.get(bare), message));
    deliverToAccounts(dialog.appId, dialog.occupantIds, message);
    if (!directory.enabled) return;
    const event: RoomEvent = { type: 'message', stanza: message.toString(), userIds: dialog.occupantIds };
    await directory.publishToAccounts(bare, dialog.occupantIds.map((id) => userJid(dialog.appId, id)), event).catch(logFailure('publishing a room message'));
  }

  async function groupchat(ctx: RouteContext): Promise<true> {
    const { stanza, to, origin } = ctx;
    const sender = parseUserLocal(ctx.from.local);
    if (!sender) return true;
    const found = await lookup(to, sender.appId);
    if (!to.isBare) {
      core.bounce(stanza, new StanzaError('bad-request', "Groupchat message can't be addressed to occupant."), origin);
      return true;
    }
    if (!found) {
      core.bounce(stanza, new StanzaError('item-not-found', NO_SUCH_ROOM), origin);
      return true;
    }
    const { dialog } = found;
    const room = rooms.get(to.bare);
    const joined = origin ? rooms.isJoined(room, origin) : false;
    const allowed = joinRequired(dialog) ? joined && chat.canUseRoom(dialog, sender.userId) : chat.isOccupant(dialog, sender.userId);
    if (!allowed) {
      core.bounce(stanza, new StanzaError('forbidden', CANNOT_POST), origin);
      return true;
    }

    const extra = readExtraParams(stanza);
    const body = stanza.getChild('body');
    const hasContent = body !== undefined || extra.attachments.length > 0;
    let id = stanza.attrs.id;
    let stored = false;
    let dateSent = extra.dateSent !== undefined ? String(extra.dateSent) : String(Math.floor(Date.now() / 1000));
    if (hasContent && extra.saveToHistory) {
      try {
        const saved = await chat.createMessage({ appId: sender.appId, userId: sender.userId }, {
          ...extra.custom,
          chat_dialog_id: dialog.id,
          message: body?.text() ?? '',
          attachments: extra.attachments,
          markable: stanza.getChild('markable', NS_CHAT_MARKERS) ? '1' : undefined,
        }, { id: stanza.attrs.id, dateSent: extra.dateSent, origin: 'xmpp' });
        id = saved._id;
        stored = true;
        if (extra.dateSent === undefined) dateSent = String(saved.date_sent);
      } catch (err) {
        const error = err instanceof ApiError
          ? new StanzaError(err.status === 404 ? 'item-not-found' : err.status === 403 ? 'forbidden' : 'not-acceptable', err.status === 403 ? CANNOT_POST : err.message)
          : new StanzaError('internal-server-error');
        if (!(err instanceof ApiError)) core.log.error({ err }, 'storing a groupchat message failed');
        core.bounce(stanza, error, origin);
        return true;
      }
    } else if (hasContent && !normalizeObjectId(id)) {
      id = id ?? newObjectId(Date.now());
    }

    const relayed = relayedCopy(stanza, `${to.bare}/${sender.userId}`, { id, dateSent: hasContent ? dateSent : undefined, dialogId: dialog.id });
    if (stored) addStanzaId(relayed, id!, to.bare);
    await relay(to.bare, dialog, relayed);
    bridge?.relayed(dialog, relayed, sender.userId);
    return true;
  }

  core.on('message/muc', 'rooms', async (ctx: RouteContext) => {
    const { stanza, origin } = ctx;
    const type = stanza.attrs.type ?? 'normal';
    if (type === 'error') return true;
    if (type === 'groupchat') return groupchat(ctx);
    if (type === 'headline') {
      core.bounce(stanza, new StanzaError('not-acceptable', 'System messages can be sent to users only, not to rooms.'), origin);
      return true;
    }
    core.bounce(stanza, new StanzaError('feature-not-implemented', 'Rooms take groupchat messages only.'), origin);
    return true;
  });

  // ---- REST → XMPP ----------------------------------------------------------------------------

  chat.events.on('message', ({ record, dialog, sendToChat, system, origin }) => {
    if (!sendToChat || system || origin !== 'rest' || dialog.type === PRIVATE) return;
    const roomJid = chat.roomJid(dialog);
    const message = storedGroupchat(roomJid, record);
    addStanzaId(message, record.id, roomJid);
    relay(roomJid, dialog, message).catch(logFailure('delivering a REST message to a room'));
    bridge?.relayed(dialog, message, record.senderId);
  });

  // The REST call may land on any node: each node of the room removes its own resources.
  chat.events.on('occupantsRemoved', ({ dialog, userIds, actor }) => {
    const bare = chat.roomJid(dialog);
    dispatch(bare, () => ({ type: 'kick', userIds, actor }), () => kickHere(rooms.get(bare), userIds, actor)).catch(logFailure('kicking from a room'));
  });

  chat.events.on('dialogDeleted', ({ dialog }) => {
    const bare = chat.roomJid(dialog);
    dispatch(bare, () => ({ type: 'destroy' }), () => destroyHere(rooms.get(bare))).catch(logFailure('destroying a room'));
  });

  function kickHere(room: Room | undefined, userIds: readonly number[], actor: number): void {
    if (!room) return;
    const actorJid = userJid(room.appId, actor);
    for (const userId of userIds) {
      const occupant = room.occupants.get(userId);
      if (!occupant || occupant.resources.size === 0) continue;
      // Removed by someone else: a kick (301 with the actor, as QuickBlox sends it). Removing oneself
      // is a membership change (321), which the SDK does not mistake for a kick or a leave answer.
      const statuses = actor === userId ? [321, 110] : [301, 110];
      evict(room, occupant, (jid) => occupantPresence(room, occupant, jid, { type: 'unavailable', gone: true, statuses, actor: actor === userId ? undefined : actorJid, itemJid: jid }));
    }
  }

  function destroyHere(room: Room | undefined): void {
    if (!room) return;
    for (const occupant of [...room.occupants.values()]) {
      // Every occupant gets its own destroy presence only; no status, so that no SDK callback fires.
      // The other nodes empty the room on the same event, so they ignore the leaves that follow.
      const resources = [...occupant.resources];
      rooms.removeOccupant(room, occupant);
      for (const [jid, session] of resources) {
        session.send(occupantPresence(room, occupant, jid, { type: 'unavailable', gone: true, destroy: true, itemJid: jid }));
        void leaveDirectory(room.jid.bare, jid);
      }
    }
  }

  // ---- other nodes ----------------------------------------------------------------------------

  const remote = remoteOccupants(rooms, self, announceGone);

  directory.listen({
    event(bare, event, node) {
      const room = rooms.get(bare);
      if (node === self && event.type !== 'members' && room && room.inFlight > 0) room.inFlight--;
      switch (event.type) {
        case 'message': {
          const message = parseElement(event.stanza);
          if (!message) return;
          if (event.userIds) {
            const appId = parseRoomLocal(Jid.parse(bare)?.local ?? '')?.appId;
            if (appId !== undefined) deliverToAccounts(appId, event.userIds, message);
          } else deliverToJoined(room, message);
          return;
        }
        case 'kick':
          return kickHere(room, event.userIds, event.actor);
        case 'destroy':
          return destroyHere(room);
        case 'members':
          if (room) remote.reconcile(room, event.members);
          return;
        case 'join':
          if (room && node !== self) remote.joined(room, { ...event.member, node });
          return;
        case 'leave':
          if (room) remote.left(room, event.jid);
          return;
        case 'gone':
          if (room) for (const jid of event.jids) remote.left(room, jid);
          return;
      }
    },
    async rejoin() {
      for (const room of [...rooms.all()]) {
        for (const occupant of [...room.occupants.values()]) {
          for (const jid of [...occupant.resources.keys()]) {
            await directory.join(room.jid.bare, memberOf(occupant, jid), true).catch(logFailure('joining a room again'));
          }
        }
      }
    },
  });

  roomDiscoModule(core, chat, lookup, async (bare) => {
    const room = rooms.get(bare);
    if (room || !directory.enabled) return [...(room?.occupants.keys() ?? [])];
    return [...new Set((await directory.members(bare).catch(() => [])).map((m) => m.userId))];
  });

  return {
    rooms,
    directory,
    bridge(b: RoomBridge) {
      bridge = b;
    },
    relayToDialogRoom(dialog: Dialog, message: Element): Promise<void> {
      return relay(chat.roomJid(dialog), dialog, message);
    },
  };
}
