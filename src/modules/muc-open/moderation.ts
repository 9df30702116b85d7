// Message moderation (XEP-0425) in open rooms: a moderator retracts a stored message by its stanza
// id; it is deleted from the dialog's history (REST and MAM no longer have it) and every occupant
// gets the retraction. The same works in the QuickBlox dialog rooms, for the dialog's owner and
// admins; a dialog that is both gets the retraction in both rooms. Version 0.3 (`urn:xmpp:message-moderate:1`) and the older fastening form
// (`:0`, still sent by several clients) are both read; the retraction is sent in the form asked.
import type { C2sSession } from '../../core/api.js';
import { normalizeObjectId } from '../../chat/objectid.js';
import { xml, type Element } from '../../xml/element.js';
import { StanzaError } from '../../xmpp/errors.js';
import { addressed, newId } from '../muc/index.js';
import type { OpenRoomsContext } from './context.js';
import { resourcesOf, type OpenRoom } from './live.js';
import type { ChatMessage, Dialog } from '../../storage/types.js';
import { REASON_MAX } from './limits.js';

export const NS_MODERATE = 'urn:xmpp:message-moderate:1';
export const NS_MODERATE_0 = 'urn:xmpp:message-moderate:0';
const NS_RETRACT = 'urn:xmpp:message-retract:1';
const NS_RETRACT_0 = 'urn:xmpp:message-retract:0';
const NS_FASTEN = 'urn:xmpp:fasten:0';

interface Request {
  id: string;
  reason?: string;
  legacy: boolean;
}

/** The moderation request an IQ payload is, if it is one. */
export function moderationRequest(payload: Element): Request | null {
  let legacy = false;
  let moderate: Element | undefined = payload;
  let id = payload.attrs.id;
  if (payload.localName === 'apply-to' && payload.attrs.xmlns === NS_FASTEN) {
    legacy = true;
    moderate = payload.getChild('moderate', NS_MODERATE_0);
  } else if (!(payload.localName === 'moderate' && payload.attrs.xmlns === NS_MODERATE)) return null;
  if (!moderate) return null;
  if (!moderate.getChild('retract', legacy ? NS_RETRACT_0 : NS_RETRACT)) throw new StanzaError('bad-request', 'Moderation retracts a message.');
  const reason = moderate.getChild('reason')?.text();
  if (reason !== undefined && reason.length > REASON_MAX) throw new StanzaError('not-acceptable', `A reason has at most ${REASON_MAX} characters.`);
  if (!id) throw new StanzaError('bad-request', 'Name the message by its stanza id.');
  id = String(id);
  return { id, reason: reason || undefined, legacy };
}

/** The retraction every occupant gets, from the room, in the form the request used. */
function retraction(roomBare: string, by: string, id: string, request: Request): Element {
  const reason = request.reason !== undefined ? [xml('reason', null, request.reason)] : [];
  const payload = request.legacy
    ? xml('apply-to', { xmlns: NS_FASTEN, id },
      xml('moderated', { xmlns: NS_MODERATE_0, by }, xml('retract', { xmlns: NS_RETRACT_0 }), ...reason))
    : xml('retract', { xmlns: NS_RETRACT, id }, xml('moderated', { xmlns: NS_MODERATE, by }), ...reason);
  return xml('message', { type: 'groupchat', from: roomBare, id: newId() }, payload);
}

export function openModeration(ctx: OpenRoomsContext) {
  /** The stored message of the dialog with that stanza id; item-not-found when there is none. */
  async function find(dialog: Dialog, viewerId: number, stanzaId: string): Promise<ChatMessage> {
    const id = normalizeObjectId(stanzaId);
    const record = id ? await ctx.history.getMessage(dialog.appId, id, viewerId) : null;
    if (!record || record.dialogId !== dialog.id) throw new StanzaError('item-not-found', 'No such message in this room.');
    return record;
  }

  /** Deletes the message for everyone and tells both rooms of the dialog (the open one and the QuickBlox one). */
  async function retract(dialog: Dialog, record: ChatMessage, byNick: string, request: Request): Promise<void> {
    // Deleted as its sender would delete it for everyone, so that REST and the archive forget it alike.
    await ctx.chat.deleteMessages({ appId: dialog.appId, userId: record.senderId }, [record.id], true);
    const open = ctx.live.byDialog(dialog.id);
    if (open && !ctx.clustered) {
      const message = retraction(open.bare, `${open.bare}/${byNick}`, record.id, request);
      for (const [, jid, target] of resourcesOf(open)) target.send(addressed(message, jid));
    } else if (ctx.clustered) {
      // The open room's occupants may all be on other nodes.
      const name = open?.name ?? (dialog.type === 2 ? await ctx.nameOfDialog(dialog) : null);
      if (name !== null) {
        const bare = `${name}@${ctx.core.mucDomain}`;
        await ctx.broadcast({ appId: dialog.appId, bare }, retraction(bare, `${bare}/${byNick}`, record.id, request));
      }
    }
    const qbRoom = ctx.chat.roomJid(dialog);
    await ctx.muc.relayToDialogRoom(dialog, retraction(qbRoom, `${qbRoom}/${byNick}`, record.id, request));
  }

  /** In an open room: its moderators. */
  async function inOpenRoom(room: OpenRoom, session: C2sSession, request: Request): Promise<void> {
    const actor = ctx.live.occupantOf(room, session);
    if (!actor || actor.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators moderate messages.');
    await retract(room.dialog, await find(room.dialog, actor.userId, request.id), actor.nick, request);
  }

  /**
   * In a QuickBlox dialog room: a joined owner or admin of the dialog (every occupant of a group
   * dialog has the moderator role there, which is too wide to delete others' messages).
   */
  async function inDialogRoom(dialog: Dialog, roomBare: string, session: C2sSession, request: Request): Promise<void> {
    const userId = session.user!.userId;
    if (!ctx.muc.rooms.isJoined(ctx.muc.rooms.get(roomBare), session) || !ctx.chat.isManager(dialog, userId)) {
      throw new StanzaError('forbidden', "Only the dialog's owner and admins, joined, moderate messages.");
    }
    await retract(dialog, await find(dialog, userId, request.id), String(userId), request);
  }

  return { inOpenRoom, inDialogRoom };
}
