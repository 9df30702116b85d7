// Privacy lists (XEP-0016) as data: whether a user's list blocks a stanza exchanged with another
// JID. The XMPP privacy module enforces lists on stanzas; chat/ applies the same rules to messages
// created through REST, so that a blocked sender's message is neither delivered to nor counted
// unread for the user who blocked them, whichever way it was sent.
import type { PrivacyItem, PrivacyList, RosterItem, Store } from '../storage/types.js';

/** A JID's parts, as xmpp/Jid has them (local and domain case-folded); chat/ does not import xmpp/. */
export interface Address {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
  readonly bare: string;
}

/** `local@domain/resource` split with Jid.parse's normalisation; items were validated when they were set. */
function parseAddress(text: string): Address | null {
  const slash = text.indexOf('/');
  const bareText = slash < 0 ? text : text.slice(0, slash);
  const resource = slash < 0 ? '' : text.slice(slash + 1).normalize('NFKC');
  const at = bareText.indexOf('@');
  const local = at < 0 ? '' : bareText.slice(0, at).normalize('NFKC').toLowerCase();
  const domain = (at < 0 ? bareText : bareText.slice(at + 1)).normalize('NFKC').toLowerCase();
  if (!domain) return null;
  return { local, domain, resource, bare: local ? `${local}@${domain}` : domain };
}

export type PrivacyKind = 'message' | 'iq' | 'presence-in' | 'presence-out' | 'other';

/** A list in force, with the roster it is matched against (for group and subscription items). */
export interface EffectiveList {
  list: PrivacyList;
  roster: Map<string, RosterItem>;
}

function jidMatches(value: string, jid: Address, mucDomain: string): boolean {
  const v = parseAddress(value);
  if (!v) return false;
  if (v.local && v.resource) return v.bare === jid.bare && v.resource === jid.resource;
  if (v.local) return v.local === jid.local && v.domain === jid.domain;
  if (v.resource) {
    // QuickBlox: `muc.<domain>/<userId>` stands for that user's nick in every room.
    if (v.domain === mucDomain) return jid.domain === v.domain && jid.resource === v.resource;
    return !jid.local && jid.domain === v.domain && jid.resource === v.resource;
  }
  return jid.domain === v.domain;
}

function itemMatches(item: PrivacyItem, other: Address, roster: Map<string, RosterItem>, mucDomain: string): boolean {
  if (item.type === null) return true;
  if (item.value === null) return false;
  if (item.type === 'jid') return jidMatches(item.value, other, mucDomain);
  const contact = roster.get(other.bare);
  if (item.type === 'group') return contact?.groups.includes(item.value) ?? false;
  return (contact?.subscription ?? 'none') === item.value;
}

/** Whether the list blocks a stanza of that kind exchanged with `other` (the first matching item decides). */
export function listBlocks(eff: EffectiveList | null, other: Address, kind: PrivacyKind, mucDomain: string): boolean {
  if (!eff) return false;
  for (const item of eff.list.items) {
    const applies = item.stanzas.length === 0 || (kind !== 'other' && item.stanzas.includes(kind));
    if (!applies || !itemMatches(item, other, eff.roster, mucDomain)) continue;
    return item.action === 'deny';
  }
  return false;
}

/** A list with the roster its group and subscription items need. */
export async function withRoster(store: Pick<Store, 'roster'>, userId: number, list: PrivacyList | null): Promise<EffectiveList | null> {
  if (!list) return null;
  const needsRoster = list.items.some((i) => i.type === 'group' || i.type === 'subscription');
  const roster = needsRoster ? await store.roster.getRoster(userId) : [];
  return { list, roster: new Map(roster.map((r) => [r.jid, r])) };
}

/**
 * The users among `recipients` whose default privacy list blocks messages from `senderId`, as
 * their 1-1 JID or as their nick in rooms (`muc.<domain>/<id>`).
 */
export async function usersBlocking(
  store: Pick<Store, 'privacy' | 'roster'>, mucDomain: string, appId: number, senderId: number, recipients: readonly number[],
): Promise<Set<number>> {
  const domain = mucDomain.startsWith('muc.') ? mucDomain.slice(4) : mucDomain;
  // The sender as XMPP names them: `<userId>-<appId>@<domain>`, and `muc.<domain>/<userId>` in rooms.
  const direct = parseAddress(`${senderId}-${appId}@${domain}`);
  const inRooms = parseAddress(`${mucDomain}/${senderId}`);
  const blocking = new Set<number>();
  for (const userId of recipients) {
    const list = await store.privacy.getDefault(userId);
    if (!list) continue;
    const eff = await withRoster(store, userId, list);
    if ((direct && listBlocks(eff, direct, 'message', mucDomain)) || (inRooms && listBlocks(eff, inRooms, 'message', mucDomain))) blocking.add(userId);
  }
  return blocking;
}
