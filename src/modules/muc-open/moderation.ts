// Message moderation (XEP-0425) in open rooms: a moderator retracts a stored message by its stanza
// id; it is deleted from the dialog's history (REST and MAM no longer have it) and every occupant
// gets the retraction. Version 0.3 (`urn:xmpp:message-moderate:1`) and the older fastening form
// (`:0`, still sent by several clients) are both read; the retraction is sent in the form asked.
import type { C2sSession } from '../../core/api.js';
import { normalizeObjectId } from '../../chat/objectid.js';
import { xml, type Element } from '../../xml/element.js';
import { StanzaError } from '../../xmpp/errors.js';
import { addressed, newId } from '../muc/index.js';
import type { OpenRoomsContext } from './context.js';
import { resourcesOf, type OpenRoom } from './live.js';
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

export function openModeration(ctx: OpenRoomsContext) {
  return async function moderate(room: OpenRoom, session: C2sSession, request: Request): Promise<void> {
    const actor = ctx.live.occupantOf(room, session);
    if (!actor || actor.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators moderate messages.');
    const id = normalizeObjectId(request.id);
    const record = id ? await ctx.history.getMessage(room.appId, id, actor.userId) : null;
    if (!record || record.dialogId !== room.dialog.id) throw new StanzaError('item-not-found', 'No such message in this room.');
    // Deleted as its sender would delete it for everyone, so that REST and the archive forget it alike.
    await ctx.chat.deleteMessages({ appId: room.appId, userId: record.senderId }, [record.id], true);
    const by = `${room.bare}/${actor.nick}`;
    const reason = request.reason !== undefined ? [xml('reason', null, request.reason)] : [];
    const payload = request.legacy
      ? xml('apply-to', { xmlns: NS_FASTEN, id: record.id },
        xml('moderated', { xmlns: NS_MODERATE_0, by }, xml('retract', { xmlns: NS_RETRACT_0 }), ...reason))
      : xml('retract', { xmlns: NS_RETRACT, id: record.id }, xml('moderated', { xmlns: NS_MODERATE, by }), ...reason);
    const message = xml('message', { type: 'groupchat', from: room.bare, id: newId() }, payload);
    for (const [, jid, target] of resourcesOf(room)) target.send(addressed(message, jid));
  };
}
