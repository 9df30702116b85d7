// Messages in open rooms: groupchat (stored as the dialog's history, then reflected with its
// XEP-0359 stanza id and copied to the dialog's QuickBlox room), subject changes (§8.1), private
// messages between occupants (§7.5), invitations (§7.8.2), and what the dialog's QuickBlox room relays, reflected here.
import type { C2sSession, RouteContext } from '../../core/api.js';
import { ApiError } from '../../chat/errors.js';
import type { ChatMessage, Dialog } from '../../storage/types.js';
import { Element, xml } from '../../xml/element.js';
import type { Jid } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { NS_MUC_USER, NS_SID, addStanzaId, addressed } from '../muc/index.js';
import { directoryKey, type OpenRoomsContext } from './context.js';
import { resourcesOf, type OpenRoom } from './live.js';
import { SUBJECT_MAX } from './limits.js';
import { openInvitations } from './invitations.js';

/** The nick a user's messages come from: theirs while they are in the room, else their user id. */
export const nickOf = (room: OpenRoom, userId: number): string => room.byUser.get(userId)?.nick ?? String(userId);

/** A stored message of the room as history (or an archive result) shows it. */
export function historyMessage(room: OpenRoom, record: ChatMessage): Element {
  const message = xml('message', { xmlns: NS_CLIENT, type: 'groupchat', id: record.id, from: `${room.bare}/${nickOf(room, record.senderId)}` });
  if (record.body !== '') message.append(xml('body', null, record.body));
  addStanzaId(message, record.id, room.bare);
  return message;
}

/** The children a reflection keeps: not QuickBlox's extraParams, not a stanza id someone else wrote. */
const reflectable = (child: Element): boolean =>
  child.localName !== 'extraParams' && !(child.localName === 'stanza-id' && child.attrs.xmlns === NS_SID);

export function openMessages(ctx: OpenRoomsContext) {
  const { core, chat, live } = ctx;
  const invite = openInvitations(ctx);

  /** To every joined resource: here at once without a cluster, else on every node in the room's order. */
  async function deliver(room: OpenRoom, message: Element): Promise<void> {
    if (ctx.clustered) return ctx.broadcast(room, message);
    for (const [, jid, session] of resourcesOf(room)) session.send(addressed(message, jid));
  }

  async function groupchat(stanza: Element, session: C2sSession, room: OpenRoom): Promise<void> {
    const occupant = live.occupantOf(room, session);
    if (!occupant) throw new StanzaError('not-acceptable', 'Only occupants send messages to the room.');
    const from = `${room.bare}/${occupant.nick}`;
    const body = stanza.getChild('body');
    const subject = stanza.getChild('subject');
    if (subject && !body) {
      const mayChange = occupant.role === 'moderator' || (room.doc.config.changeSubject && occupant.role === 'participant');
      if (!mayChange) throw new StanzaError('forbidden', 'Only moderators change the subject of this room.');
      const text = subject.text();
      if (text.length > SUBJECT_MAX) throw new StanzaError('not-acceptable', `A subject has at most ${SUBJECT_MAX} characters.`);
      room.doc.subject = text;
      room.doc.subjectBy = occupant.nick;
      await ctx.save(room);
      await deliver(room, xml('message', { type: 'groupchat', from, id: stanza.attrs.id ?? '' }, xml('subject', null, text)));
      return;
    }
    if (occupant.role === 'visitor') throw new StanzaError('forbidden', 'Visitors cannot speak in a moderated room.');
    const reflected = new Element('message', { type: 'groupchat', from });
    if (stanza.attrs.id) reflected.attrs.id = stanza.attrs.id;
    for (const child of stanza.getChildren()) if (reflectable(child)) reflected.append(child.clone());
    if (!body) return deliver(room, reflected); // chat states and the like: passed on, not stored
    const { appId, userId } = session.user!;
    const saved = await chat.createMessage({ appId, userId }, { chat_dialog_id: room.dialog.id, message: body.text() },
      { id: stanza.attrs.id, origin: 'xmpp' });
    reflected.attrs.id ??= saved._id;
    addStanzaId(reflected, saved._id, room.bare);
    await deliver(room, reflected);
    // The same message for QuickBlox clients in the dialog's room, shaped as that room sends it.
    const qbRoom = chat.roomJid(room.dialog);
    const copy = xml('message', { xmlns: NS_CLIENT, type: 'groupchat', id: saved._id, from: `${qbRoom}/${userId}` }, xml('body', null, saved.message));
    addStanzaId(copy, saved._id, qbRoom);
    copy.append(xml('extraParams', { xmlns: NS_CLIENT }, xml('save_to_history', null, '1'), xml('date_sent', null, String(saved.date_sent)),
      xml('dialog_id', null, room.dialog.id)));
    await ctx.muc.relayToDialogRoom(room.dialog, copy);
  }

  function privateMessage(stanza: Element, session: C2sSession, room: OpenRoom, to: Jid): void {
    const sender = live.occupantOf(room, session);
    if (!sender) throw new StanzaError('not-acceptable', 'Only occupants send private messages in the room.');
    const target = room.byNick.get(to.resource);
    if (!target) throw new StanzaError('item-not-found', 'Nobody has that nick in this room.');
    const message = new Element('message', { ...stanza.attrs, from: `${room.bare}/${sender.nick}` });
    delete message.attrs.to;
    delete message.attrs.xmlns;
    for (const child of stanza.getChildren()) if (reflectable(child)) message.append(child.clone());
    if (!message.getChild('x', NS_MUC_USER)) message.append(xml('x', { xmlns: NS_MUC_USER }));
    for (const [jid, targetSession] of target.resources) targetSession.send(addressed(message, jid));
    if (target.remote.size > 0) {
      // To the nodes of the target's other resources, which deliver it to those in the room.
      const event = { type: 'message' as const, stanza: message.toString(), userIds: [target.userId] };
      ctx.directory.publishToAccounts(directoryKey(room.appId, room.bare), [ctx.userJid(room.appId, target.userId)], event)
        .catch((err: unknown) => core.log.error({ err }, 'a private message to another node failed'));
    }
  }

  /** A message to an open room (the room exists here or on disk). */
  async function message(ctx2: RouteContext, room: OpenRoom): Promise<void> {
    const { stanza, to, origin } = ctx2;
    const type = stanza.attrs.type ?? 'normal';
    if (type === 'error' || !origin) return;
    try {
      if (type === 'groupchat') {
        if (!to.isBare) throw new StanzaError('bad-request', 'A groupchat message goes to the room, not to an occupant.');
        return await groupchat(stanza, origin, room);
      }
      if (to.isBare) {
        const x = stanza.getChild('x', NS_MUC_USER);
        if (type !== 'headline' && (x?.getChild('invite') || x?.getChild('decline'))) return await invite(room, origin, x!);
        throw new StanzaError(type === 'headline' ? 'not-acceptable' : 'feature-not-implemented',
          type === 'headline' ? 'System messages can be sent to users only, not to rooms.' : 'The room takes groupchat messages and invitations.');
      }
      return privateMessage(stanza, origin, room, to);
    } catch (err) {
      const error = err instanceof StanzaError ? err
        : err instanceof ApiError ? new StanzaError(err.status === 403 ? 'forbidden' : 'not-acceptable', err.message) : new StanzaError('internal-server-error');
      if (!(err instanceof StanzaError) && !(err instanceof ApiError)) core.log.error({ err }, 'a message to an open room failed');
      core.bounce(stanza, error, origin);
    }
  }

  /**
   * What the dialog's QuickBlox room relayed, for the open room's occupants. In a cluster, from the
   * node where it was sent, to every node of the open room (whose occupants may all be elsewhere).
   */
  function fromDialogRoom(dialog: Dialog, relayed: Element, senderId: number): void {
    const here = live.byDialog(dialog.id);
    if (here) return void deliver(here, reflection(here.bare, nickOf(here, senderId), relayed)).catch(logFailure);
    if (!ctx.clustered || dialog.type !== 2) return;
    void (async () => {
      const name = await ctx.nameOfDialog(dialog);
      if (name === null) return;
      const bare = `${name}@${core.mucDomain}`;
      const members = await ctx.directory.members(directoryKey(dialog.appId, bare));
      if (members.length === 0) return;
      const nick = members.find((m) => m.userId === senderId)?.nick ?? String(senderId);
      await ctx.broadcast({ appId: dialog.appId, bare }, reflection(bare, nick, relayed));
    })().catch(logFailure);
  }

  const logFailure = (err: unknown): void => core.log.error({ err }, 'relaying a dialog room message to its open room failed');

  function reflection(bare: string, nick: string, relayed: Element): Element {
    const message = new Element('message', { type: 'groupchat', from: `${bare}/${nick}` });
    if (relayed.attrs.id) message.attrs.id = relayed.attrs.id;
    for (const child of relayed.getChildren()) if (reflectable(child)) message.append(child.clone());
    const stored = relayed.getChild('stanza-id', NS_SID)?.attrs.id;
    if (stored) addStanzaId(message, stored, bare);
    return message;
  }

  return { message, fromDialogRoom };
}
