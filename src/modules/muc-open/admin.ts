// Administration of open rooms: roles and affiliations (muc#admin, XEP-0045 §8–§9: kick, voice,
// moderator, member, admin, owner, ban and the lists of each) and the owner's configuration form
// and destruction (muc#owner, §10).
import type { C2sSession } from '../../core/api.js';
import { xml, type Element } from '../../xml/element.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import { NS_MUC_USER, addressed, newId } from '../muc/index.js';
import { applyForm, configForm } from './config.js';
import type { OpenRoomsContext } from './context.js';
import { leaveDirectory } from './cluster.js';
import { affiliationOf, broadcastPresence, realJidOf, defaultRole, presenceOf, resourcesOf, type OpenOccupant, type OpenRoom, type Role } from './live.js';
import { ADMIN_ITEMS_MAX, AFFILIATIONS_MAX, REASON_MAX } from './limits.js';
import type { Affiliation } from './store.js';

export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const RANK: Record<Affiliation | 'none', number> = { outcast: 0, none: 1, member: 2, admin: 3, owner: 4 };
const AFFILIATIONS = new Set(['owner', 'admin', 'member', 'none', 'outcast']);
const ROLES = new Set(['moderator', 'participant', 'visitor', 'none']);

function reasonOf(item: Element): string | undefined {
  const reason = item.getChild('reason')?.text();
  if (reason !== undefined && reason.length > REASON_MAX) throw new StanzaError('not-acceptable', `A reason has at most ${REASON_MAX} characters.`);
  return reason || undefined;
}

export function openAdmin(ctx: OpenRoomsContext, depart: (room: OpenRoom, occupant: OpenOccupant, jid: string, announce: boolean) => Promise<void>) {
  const { chat, store, live } = ctx;

  /** The requester as an occupant of the room (admin requests come from occupants). */
  function actorOf(room: OpenRoom, session: C2sSession): OpenOccupant {
    const actor = live.occupantOf(room, session);
    if (!actor) throw new StanzaError('not-acceptable', 'Only occupants administer the room.');
    return actor;
  }

  /** The occupant removed from the room on every resource (kick 307, ban 301, no longer a member 321). */
  async function remove(room: OpenRoom, target: OpenOccupant, status: number, actor: string, reason: string | undefined): Promise<void> {
    const affiliation = affiliationOf(room.doc, target.userId);
    const opts = { unavailable: true, role: 'none', affiliation, statuses: [status], actor, reason };
    if (ctx.clustered) return ctx.announce(room, target, opts, { removed: true }); // each node removes its own resources
    broadcastPresence(room, target, opts, opts);
    for (const jid of [...target.resources.keys()]) await depart(room, target, jid, false);
  }

  /** The user an affiliation item names: a user JID of the requester's application. */
  function userOf(room: OpenRoom, raw: string | undefined): number {
    const jid = raw ? Jid.parse(raw) : null;
    const user = jid && jid.domain === ctx.core.domain ? parseUserLocal(jid.local) : null;
    if (!user || user.appId !== room.appId) throw new StanzaError('not-acceptable', 'Affiliations are given to user JIDs of this application.');
    return user.userId;
  }

  async function setRole(room: OpenRoom, actor: OpenOccupant, item: Element): Promise<void> {
    const role = item.attrs.role!;
    const target = item.attrs.nick ? room.byNick.get(item.attrs.nick) : undefined;
    if (!target) throw new StanzaError('item-not-found', 'Nobody has that nick in this room.');
    if (!ROLES.has(role)) throw new StanzaError('bad-request', `Unknown role ${role}.`);
    if (actor.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators change roles.');
    const actorRank = RANK[affiliationOf(room.doc, actor.userId)];
    const targetRank = RANK[affiliationOf(room.doc, target.userId)];
    if (role === 'moderator' && actorRank < RANK.admin) throw new StanzaError('forbidden', 'Only admins and owners grant moderation.');
    if (targetRank >= RANK.admin && (role !== 'moderator' || targetRank > actorRank)) throw new StanzaError('not-allowed', 'Admins and owners keep their role.');
    const reason = reasonOf(item);
    if (role === 'none') return remove(room, target, 307, actor.nick, reason);
    target.role = role as Role;
    await showRole(room, target, { reason });
  }

  /** The occupant's presence with its role now, on every node. */
  async function showRole(room: OpenRoom, target: OpenOccupant, opts: { reason?: string }): Promise<void> {
    if (ctx.clustered) return ctx.announce(room, target, opts, { role: target.role });
    broadcastPresence(room, target, opts);
  }

  async function setAffiliation(room: OpenRoom, actor: OpenOccupant, item: Element): Promise<void> {
    const affiliation = item.attrs.affiliation!;
    if (!AFFILIATIONS.has(affiliation)) throw new StanzaError('bad-request', `Unknown affiliation ${affiliation}.`);
    const userId = userOf(room, item.attrs.jid);
    const actorRank = RANK[affiliationOf(room.doc, actor.userId)];
    const current = affiliationOf(room.doc, userId);
    const wanted = affiliation as Affiliation | 'none';
    if (actorRank < RANK.admin) throw new StanzaError('forbidden', 'Only admins and owners change affiliations.');
    if (actorRank < RANK.owner && (RANK[current] >= RANK.admin || RANK[wanted] >= RANK.admin)) throw new StanzaError('not-allowed', 'Only owners change admins and owners.');
    const owners = Object.values(room.doc.affiliations).filter((a) => a === 'owner').length;
    if (current === 'owner' && wanted !== 'owner' && owners <= 1) throw new StanzaError('conflict', 'A room keeps at least one owner.');
    if (userId === room.dialog.ownerId && wanted === 'outcast') throw new StanzaError('not-allowed', "The dialog's owner cannot be banned.");
    if (wanted === 'none') delete room.doc.affiliations[String(userId)];
    else {
      if (current === 'none' && Object.keys(room.doc.affiliations).length >= AFFILIATIONS_MAX) throw new StanzaError('resource-constraint', `A room has at most ${AFFILIATIONS_MAX} affiliated users.`);
      room.doc.affiliations[String(userId)] = wanted;
    }
    await ctx.save(room);
    // Members and above are occupants of the dialog; a banned user is removed from it (which also
    // takes them out of the dialog's QuickBlox room).
    if (wanted !== 'none') await ctx.setOccupant(room, userId, wanted !== 'outcast');
    const target = room.byUser.get(userId);
    if (!target) return;
    const reason = reasonOf(item);
    if (wanted === 'outcast') return remove(room, target, 301, actor.nick, reason);
    if (wanted === 'none' && room.doc.config.membersOnly) return remove(room, target, 321, actor.nick, reason);
    target.role = defaultRole(room.doc, userId);
    await showRole(room, target, { reason });
  }

  function list(room: OpenRoom, actor: OpenOccupant, item: Element): Element[] {
    if (item.attrs.affiliation) {
      if (RANK[affiliationOf(room.doc, actor.userId)] < RANK.admin && item.attrs.affiliation !== 'member') {
        throw new StanzaError('forbidden', 'Only admins and owners read affiliation lists.');
      }
      return Object.entries(room.doc.affiliations).filter(([, a]) => a === item.attrs.affiliation)
        .map(([userId, a]) => xml('item', { affiliation: a, jid: ctx.userJid(room.appId, Number(userId)) }));
    }
    if (!item.attrs.role || !ROLES.has(item.attrs.role)) throw new StanzaError('bad-request', 'Ask for an affiliation or a role.');
    if (actor.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators read role lists.');
    return [...room.byNick.values()].filter((o) => o.role === item.attrs.role).map((o) =>
      xml('item', { affiliation: affiliationOf(room.doc, o.userId), role: o.role, nick: o.nick, jid: realJidOf(o) ?? '' }));
  }

  /** muc#admin: the answer's payload (null: an empty result). */
  async function admin(room: OpenRoom, session: C2sSession, type: string, query: Element): Promise<Element | null> {
    const actor = actorOf(room, session);
    const items = query.getChildren('item');
    if (items.length === 0 || items.length > ADMIN_ITEMS_MAX) throw new StanzaError('bad-request', `Send 1 to ${ADMIN_ITEMS_MAX} items.`);
    if (type === 'get') return xml('query', { xmlns: NS_MUC_ADMIN }, ...list(room, actor, items[0]!));
    for (const item of items) {
      if (item.attrs.role !== undefined && item.attrs.affiliation === undefined) await setRole(room, actor, item);
      else if (item.attrs.affiliation !== undefined) await setAffiliation(room, actor, item);
      else throw new StanzaError('bad-request', 'An item sets a role or an affiliation.');
    }
    return null;
  }

  /** muc#owner: the configuration form, a submitted form, or the room's destruction. */
  async function owner(room: OpenRoom, session: C2sSession, type: string, query: Element): Promise<Element | null> {
    const actor = actorOf(room, session);
    if (affiliationOf(room.doc, actor.userId) !== 'owner') throw new StanzaError('forbidden', 'Only owners configure the room.');
    if (type === 'get') return xml('query', { xmlns: NS_MUC_OWNER }, configForm(room.doc.config));
    const destroy = query.getChild('destroy');
    if (destroy) {
      await destroyRoom(room, reasonOf(destroy));
      return null;
    }
    const form = query.getChild('x', 'jabber:x:data');
    if (!form) throw new StanzaError('bad-request', 'Submit the configuration form or destroy the room.');
    if (form.attrs.type === 'cancel') return null;
    if (form.attrs.type !== 'submit') throw new StanzaError('bad-request', 'The form is of type submit or cancel.');
    const before = room.doc.config;
    const next = applyForm(before, form);
    if (next.title !== room.dialog.name) {
      await chat.updateDialog({ appId: room.appId, userId: room.dialog.ownerId }, room.dialog.id, { name: next.title });
      room.dialog = { ...room.dialog, name: next.title };
    }
    room.doc.config = next;
    await ctx.save(room);
    // §10.2.1: status 104 tells the occupants that the configuration changed.
    const notice = xml('message', { type: 'groupchat', from: room.bare, id: newId() }, xml('x', { xmlns: NS_MUC_USER }, xml('status', { code: '104' })));
    if (ctx.clustered) await ctx.broadcast(room, notice);
    else for (const [, jid, target] of resourcesOf(room)) target.send(addressed(notice, jid));
    if (next.membersOnly && !before.membersOnly) {
      for (const o of [...room.byNick.values()]) if (affiliationOf(room.doc, o.userId) === 'none') await remove(room, o, 322, actor.nick, undefined);
    }
    if (next.moderated !== before.moderated) {
      for (const o of room.byNick.values()) {
        const role = defaultRole(room.doc, o.userId);
        if (role !== o.role && o.role !== 'moderator') {
          o.role = role;
          await showRole(room, o, {});
        }
      }
    }
    return null;
  }

  /** Every session of this node in the room gets the destroy presence, and the room is let go here (and in the directory). */
  function destroyHere(room: OpenRoom, reason: string | undefined): void {
    const left: string[] = [];
    for (const [occupant, jid, target] of resourcesOf(room)) {
      const presence = presenceOf(room, occupant, jid, { unavailable: true, affiliation: 'none', role: 'none', destroy: true, statuses: [110] });
      if (reason) presence.getChild('x', NS_MUC_USER)!.getChild('destroy')!.c('reason').t(reason);
      target.send(presence);
      left.push(jid);
    }
    live.forget(room);
    for (const jid of left) void leaveDirectory(ctx, room, jid);
  }

  /** Here at once, and on the other nodes holding the room. */
  async function destroyEverywhere(room: { appId: number; bare: string }, reason: string | undefined): Promise<void> {
    const here = live.get(room.appId, room.bare);
    if (here) destroyHere(here, reason);
    if (ctx.clustered) await ctx.publish(room, { type: 'destroy', reason });
  }

  /** §10.9: every occupant gets the destroy presence; the room and its dialog are deleted. */
  async function destroyRoom(room: OpenRoom, reason: string | undefined): Promise<void> {
    await destroyEverywhere(room, reason);
    await store.remove(room.appId, room.name, room.doc);
    await chat.deleteDialogs({ appId: room.appId, userId: room.dialog.ownerId }, [room.dialog.id], true);
  }

  /** The dialog was deleted over REST: the room goes too. */
  async function dialogGone(room: OpenRoom): Promise<void> {
    await destroyEverywhere(room, undefined);
    await store.remove(room.appId, room.name, room.doc);
  }

  return { admin, owner, dialogGone, destroyHere };
}
