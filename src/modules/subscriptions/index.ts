// Presence subscriptions (RFC 6121 §3): subscribe, subscribed, unsubscribe and unsubscribed
// update both rosters (with roster pushes and the pending `ask`), reach the contact from the
// sender's bare JID, and wait in offline storage when the contact has no available resource (as
// QuickBlox's server kept them). Probes are answered from the roster. Removing a roster item
// cancels the subscriptions both ways. Both users are on this server and in the same application
// (the core refuses the rest before any hook runs).
import type { ModuleApi, RouteContext } from '../../core/api.js';
import { Element, xml } from '../../xml/element.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { NS_DELAY } from '../../xmpp/ns.js';
import type { OfflineStore, RosterItem, RosterStore, Subscription } from '../../storage/types.js';
import { pushRosterItem } from '../roster/index.js';

type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';
const TYPES = new Set<string>(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

const hasTo = (s: Subscription): boolean => s === 'to' || s === 'both';
const hasFrom = (s: Subscription): boolean => s === 'from' || s === 'both';
const make = (to: boolean, from: boolean): Subscription => (to ? (from ? 'both' : 'to') : from ? 'from' : 'none');

export function subscriptionsModule(core: ModuleApi, roster: RosterStore, offline: OfflineStore): void {
  const userIdOf = (jid: Jid): number | null => parseUserLocal(jid.local)?.userId ?? null;

  /** Applies `change` to the owner's item for `contact` (created when `create`), pushes it when it changed. */
  async function update(owner: Jid, contact: Jid, create: boolean, change: (item: RosterItem) => void): Promise<RosterItem | null> {
    const ownerId = userIdOf(owner);
    if (ownerId === null) return null;
    const existing = await roster.getItem(ownerId, contact.bare);
    if (!existing && !create) return null;
    const item: RosterItem = existing ? { ...existing, groups: [...existing.groups] } : { jid: contact.bare, name: null, subscription: 'none', ask: false, groups: [] };
    change(item);
    if (existing && existing.subscription === item.subscription && existing.ask === item.ask) return item;
    await roster.setItem(ownerId, item);
    pushRosterItem(core, owner.bare, item);
    return item;
  }

  /** Delivers a subscription stanza to the contact's available resources, or keeps it for the next login. */
  async function deliver(type: SubscriptionType, from: Jid, to: Jid, original?: Element): Promise<void> {
    const presence = xml('presence', { type, from: from.bare, to: to.bare });
    if (original?.attrs.id) presence.attrs.id = original.attrs.id;
    for (const child of original?.getChildren() ?? []) if (child.localName === 'status' || child.localName === 'nick') presence.append(child.clone());
    const targets = core.sessions.available(to.bare);
    if (targets.length > 0) {
      for (const target of targets) target.send(presence);
      return;
    }
    const userId = userIdOf(to);
    if (userId === null) return;
    presence.append(xml('delay', { xmlns: NS_DELAY, from: core.domain, stamp: new Date().toISOString() }, 'Offline Storage'));
    await offline.push(userId, presence.toString(), core.config.offline_limit);
  }

  /** The current presence of every available resource of `from`, sent to `to`'s available resources. */
  function sendPresence(from: Jid, to: Jid, unavailable = false): void {
    const targets = core.sessions.available(to.bare);
    if (targets.length === 0) return;
    for (const source of core.sessions.available(from.bare)) {
      const presence = unavailable || !source.presence
        ? xml('presence', { type: 'unavailable', from: source.jid!.toString() })
        : new Element('presence', { ...source.presence.attrs, from: source.jid!.toString() }, source.presence.getChildren().map((c) => c.clone()));
      for (const target of targets) {
        const copy = presence.clone();
        copy.attrs.to = target.jid!.toString();
        target.send(copy);
      }
    }
  }

  async function handle(type: SubscriptionType, user: Jid, contact: Jid, stanza?: Element): Promise<void> {
    if (user.bare === contact.bare) return;
    const contactId = userIdOf(contact);
    if (contactId === null) return;
    switch (type) {
      case 'subscribe': {
        // §3.1.2-3: the user's item shows the pending request; a contact who already lets the user see its presence answers at once.
        const mine = await update(user, contact, true, (item) => {
          if (!hasTo(item.subscription)) item.ask = true;
        });
        const theirs = await roster.getItem(contactId, user.bare);
        if (theirs && hasFrom(theirs.subscription)) {
          await handle('subscribed', contact, user);
          return;
        }
        if (mine && hasTo(mine.subscription)) return;
        await deliver('subscribe', user, contact, stanza);
        return;
      }
      case 'subscribed': {
        // §3.1.5-6: the user lets the contact see its presence; the contact's pending request is fulfilled.
        await update(user, contact, true, (item) => {
          item.subscription = make(hasTo(item.subscription), true);
        });
        const theirs = await update(contact, user, false, (item) => {
          if (!hasTo(item.subscription)) {
            item.subscription = make(true, hasFrom(item.subscription));
            item.ask = false;
          }
        });
        if (!theirs) return;
        await deliver('subscribed', user, contact, stanza);
        sendPresence(user, contact);
        return;
      }
      case 'unsubscribe': {
        // §3.3: the user stops seeing the contact's presence.
        await update(user, contact, false, (item) => {
          item.subscription = make(false, hasFrom(item.subscription));
          item.ask = false;
        });
        const theirs = await update(contact, user, false, (item) => {
          item.subscription = make(hasTo(item.subscription), false);
        });
        if (!theirs) return;
        await deliver('unsubscribe', user, contact, stanza);
        sendPresence(contact, user, true);
        return;
      }
      case 'unsubscribed': {
        // §3.2: the user cancels (or refuses) the contact's subscription.
        await update(user, contact, false, (item) => {
          item.subscription = make(hasTo(item.subscription), false);
        });
        const theirs = await update(contact, user, false, (item) => {
          item.subscription = make(false, hasFrom(item.subscription));
          item.ask = false;
        });
        if (!theirs) return;
        await deliver('unsubscribed', user, contact, stanza);
        sendPresence(user, contact, true);
        return;
      }
    }
  }

  const onPresence = async ({ stanza, from, to, origin }: RouteContext): Promise<true | undefined> => {
    const type = stanza.attrs.type;
    if (type === 'probe') {
      // §4.3: answered by the server from the contact's roster; a probe never reaches clients.
      const contactId = userIdOf(to);
      const theirs = contactId === null ? null : await roster.getItem(contactId, from.bare);
      if (theirs && hasFrom(theirs.subscription) && origin) {
        for (const source of core.sessions.available(to.bare)) {
          if (source.presence) origin.send(new Element('presence', { ...source.presence.attrs, from: source.jid!.toString(), to: from.toString() }, source.presence.getChildren().map((c) => c.clone())));
        }
      }
      return true;
    }
    if (!type || !TYPES.has(type)) return undefined;
    if (!origin) return undefined; // only a user's own client starts a handshake
    await handle(type as SubscriptionType, from.toBare(), to.toBare(), stanza);
    return true;
  };
  core.on('presence/bare', 'subscriptions', onPresence);
  core.on('presence/full', 'subscriptions', onPresence);

  // §2.5.3: removing an item cancels both subscriptions.
  core.on('roster/removed', 'subscriptions', async ({ owner, item }: { owner: Jid; item: RosterItem }) => {
    const contact = Jid.parse(item.jid);
    if (!contact || userIdOf(contact) === null) return undefined;
    if (hasTo(item.subscription) || item.ask) await handle('unsubscribe', owner, contact);
    if (hasFrom(item.subscription)) await handle('unsubscribed', owner, contact);
    return undefined;
  });
}
