// Mediated invitations (XEP-0045 §7.8.2): an occupant asks the room to invite users of the same
// application; the room sends each an invitation from itself. In a members-only room only admins
// and owners invite, and the invitee becomes a member (and an occupant of the dialog). A decline
// goes back to the inviter through the room (§7.8.3).
import type { C2sSession } from '../../core/api.js';
import { xml, type Element } from '../../xml/element.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import { NS_MUC_USER, newId } from '../muc/index.js';
import type { OpenRoomsContext } from './context.js';
import { affiliationOf, type OpenRoom } from './live.js';
import { AFFILIATIONS_MAX, REASON_MAX } from './limits.js';

/** Invitations in one message at most. */
const INVITES_MAX = 10;

export function openInvitations(ctx: OpenRoomsContext) {
  /** §7.8.3: the room passes a decline on to the user who invited. */
  async function decline(room: OpenRoom, session: C2sSession, el: Element): Promise<void> {
    const jid = el.attrs.to ? Jid.parse(el.attrs.to) : null;
    const user = jid && jid.domain === ctx.core.domain ? parseUserLocal(jid.local) : null;
    if (!user || user.appId !== room.appId) throw new StanzaError('not-acceptable', 'Decline to a user of this application.');
    const reason = el.getChild('reason')?.text() ?? '';
    if (reason.length > REASON_MAX) throw new StanzaError('not-acceptable', `A reason has at most ${REASON_MAX} characters.`);
    await ctx.core.route(xml('message', { from: room.bare, to: ctx.userJid(room.appId, user.userId), id: newId() },
      xml('x', { xmlns: NS_MUC_USER }, xml('decline', { from: session.jid!.bare }, reason ? xml('reason', null, reason) : null))));
  }

  return async function invite(room: OpenRoom, session: C2sSession, x: Element): Promise<void> {
    const declined = x.getChild('decline');
    if (declined) return decline(room, session, declined);
    const inviter = ctx.live.occupantOf(room, session);
    if (!inviter) throw new StanzaError('not-acceptable', 'Only occupants invite.');
    const invites = x.getChildren('invite');
    if (invites.length === 0 || invites.length > INVITES_MAX) throw new StanzaError('bad-request', `Send 1 to ${INVITES_MAX} invitations.`);
    const rank = affiliationOf(room.doc, inviter.userId);
    if (room.doc.config.membersOnly && rank !== 'owner' && rank !== 'admin') {
      throw new StanzaError('forbidden', 'Only admins and owners invite to a members-only room.');
    }
    const targets = invites.map((el) => {
      const jid = el.attrs.to ? Jid.parse(el.attrs.to) : null;
      const user = jid && jid.domain === ctx.core.domain ? parseUserLocal(jid.local) : null;
      if (!user || user.appId !== room.appId) throw new StanzaError('not-acceptable', 'Invite users of this application by their JID.');
      const reason = el.getChild('reason')?.text() ?? '';
      if (reason.length > REASON_MAX) throw new StanzaError('not-acceptable', `A reason has at most ${REASON_MAX} characters.`);
      return { userId: user.userId, reason };
    });
    for (const { userId, reason } of targets) {
      if (affiliationOf(room.doc, userId) === 'outcast') throw new StanzaError('forbidden', 'That user is banned from this room.');
      if (room.doc.config.membersOnly && affiliationOf(room.doc, userId) === 'none') {
        if (Object.keys(room.doc.affiliations).length >= AFFILIATIONS_MAX) throw new StanzaError('resource-constraint', `A room has at most ${AFFILIATIONS_MAX} affiliated users.`);
        room.doc.affiliations[String(userId)] = 'member';
        await ctx.save(room);
        await ctx.setOccupant(room, userId, true);
      }
      const invitation = xml('x', { xmlns: NS_MUC_USER },
        xml('invite', { from: session.jid!.bare }, reason ? xml('reason', null, reason) : null),
        room.doc.config.password ? xml('password', null, room.doc.config.password) : null);
      await ctx.core.route(xml('message', { from: room.bare, to: ctx.userJid(room.appId, userId), id: newId() }, invitation));
    }
  };
}
