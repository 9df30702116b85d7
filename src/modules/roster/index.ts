// Roster management (RFC 6121 §2): get, set and remove, with pushes to the owner's resources.
// Subscription handshakes live in modules/subscriptions; a removal announces itself as the
// `roster/removed` hook ({owner, item}) so that they can cancel the subscriptions both ways.
import { randomBytes } from 'node:crypto';
import type { ModuleApi, IqContext } from '../../core/api.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_ROSTER } from '../../xmpp/ns.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import type { RosterItem, RosterStore } from '../../storage/types.js';

export function rosterItemElement(item: RosterItem): Element {
  const el = xml('item', { jid: item.jid, subscription: item.subscription });
  if (item.name) el.attrs.name = item.name;
  if (item.ask) el.attrs.ask = 'subscribe';
  for (const group of item.groups) el.c('group').t(group);
  return el;
}

/** A roster push (RFC 6121 §2.1.6) of one item to every resource of the owner; `subscription: 'remove'` for a removal. */
export function pushRosterItem(core: ModuleApi, ownerBare: string, item: RosterItem | (Omit<RosterItem, 'subscription'> & { subscription: 'remove' })): void {
  for (const session of core.sessions.resources(ownerBare)) {
    session.send(
      xml('iq', { type: 'set', id: `push-${randomBytes(6).toString('hex')}`, to: session.jid!.toString() },
        xml('query', { xmlns: NS_ROSTER }, rosterItemElement(item as RosterItem))),
    );
  }
}

export function rosterModule(core: ModuleApi, roster: RosterStore): void {
  const owner = (ctx: IqContext): number => {
    if (ctx.to.bare !== ctx.from.bare) throw new StanzaError('forbidden', "another user's roster is not yours to read or change");
    return parseUserLocal(ctx.from.local)!.userId;
  };

  core.addStreamFeature('authenticated', () => xml('ver', { xmlns: 'urn:xmpp:features:rosterver' }), 40);

  core.handleIq({
    scope: 'account',
    xmlns: NS_ROSTER,
    name: 'query',
    get: async (ctx) => {
      const items = await roster.getRoster(owner(ctx));
      return xml('query', { xmlns: NS_ROSTER }, ...items.map(rosterItemElement));
    },
    set: async (ctx) => {
      const userId = owner(ctx);
      const items = ctx.payload.getChildren('item');
      if (items.length !== 1) throw new StanzaError('bad-request', 'a roster set carries exactly one item');
      const item = items[0]!;
      const jid = Jid.parse(item.attrs.jid ?? '');
      if (!jid || !jid.isBare) throw new StanzaError('bad-request', 'the item needs a bare JID');
      let pushed: RosterItem;
      let removed: RosterItem | null = null;
      if (item.attrs.subscription === 'remove') {
        removed = await roster.getItem(userId, jid.bare);
        if (!removed || !(await roster.removeItem(userId, jid.bare))) throw new StanzaError('item-not-found');
        pushed = { jid: jid.bare, name: null, subscription: 'remove' as never, ask: false, groups: [] };
      } else {
        const existing = await roster.getItem(userId, jid.bare);
        const groups = [...new Set(item.getChildren('group').map((g) => g.text()))];
        pushed = {
          jid: jid.bare,
          name: item.attrs.name ?? null,
          subscription: existing?.subscription ?? 'none',
          ask: existing?.ask ?? false,
          groups,
        };
        await roster.setItem(userId, pushed);
      }
      pushRosterItem(core, ctx.from.bare, pushed);
      if (removed) await core.run('roster/removed', { owner: ctx.from.toBare(), item: removed });
      return null;
    },
  });
}
