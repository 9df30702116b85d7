// Privacy lists (XEP-0016, jabber:iq:privacy) as QuickBlox uses them: the SDK blocks a user with a
// pair of items, the user's JID and `muc.<domain>/<userId>` (that user's messages in every room).
// Lists are stored per user with one default; the active list is per session (it starts as the
// default). Blocking:
// - a 1-1 message or IQ to a user whose list blocks the sender → `service-unavailable` (503);
//   one the sender's own list blocks (items without children) → `not-acceptable`;
// - presences are dropped silently, groupchat reflections from a blocked occupant too;
// - a user with no available resource is judged by the default list (nothing goes offline).
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { Element, xml } from '../../xml/element.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import type { PrivacyItem, PrivacyList, PrivacyStore, RosterItem, RosterStore } from '../../storage/types.js';

export const NS_PRIVACY = 'jabber:iq:privacy';

/** What a stanza is, for a list: incoming message/iq/presence, outgoing presence, or anything else. */
type Kind = 'message' | 'iq' | 'presence-in' | 'presence-out' | 'other';
const KINDS = ['message', 'iq', 'presence-in', 'presence-out'] as const;

/** A list in force, with the roster it was matched against (for group and subscription items). */
interface Effective {
  list: PrivacyList;
  roster: Map<string, RosterItem>;
}

/** Per session: the active list (null = declined) — absent means "the default list". */
const ACTIVE = Symbol('privacy-active');

export function privacyModule(core: ModuleApi, store: PrivacyStore, rosters: RosterStore): void {
  /** Default lists by user id, loaded on demand (null: none). */
  const defaults = new Map<number, Effective | null>();

  const userOf = (session: C2sSession): number => session.user!.userId;

  async function withRoster(userId: number, list: PrivacyList | null): Promise<Effective | null> {
    if (!list) return null;
    const needsRoster = list.items.some((i) => i.type === 'group' || i.type === 'subscription');
    const roster = needsRoster ? await rosters.getRoster(userId) : [];
    return { list, roster: new Map(roster.map((r) => [r.jid, r])) };
  }

  async function loadDefault(userId: number): Promise<Effective | null> {
    if (!defaults.has(userId)) defaults.set(userId, await withRoster(userId, await store.getDefault(userId)));
    return defaults.get(userId) ?? null;
  }

  /** The list in force for a session, if already known (synchronous use in the outgoing filter). */
  function effectiveNow(session: C2sSession): Effective | null {
    const active = session.data.get(ACTIVE) as Effective | null | undefined;
    if (active !== undefined) return active;
    return session.user ? defaults.get(userOf(session)) ?? null : null;
  }

  async function effective(session: C2sSession): Promise<Effective | null> {
    const active = session.data.get(ACTIVE) as Effective | null | undefined;
    if (active !== undefined) return active;
    return loadDefault(userOf(session));
  }

  // ---- matching (XEP-0016 §2.1) --------------------------------------------------------------

  function jidMatches(value: string, jid: Jid): boolean {
    const v = Jid.parse(value);
    if (!v) return false;
    if (v.local && v.resource) return v.equals(jid);
    if (v.local) return v.local === jid.local && v.domain === jid.domain;
    if (v.resource) {
      // QuickBlox: `muc.<domain>/<userId>` stands for that user's nick in every room.
      if (v.domain === core.mucDomain) return jid.domain === v.domain && jid.resource === v.resource;
      return !jid.local && jid.domain === v.domain && jid.resource === v.resource;
    }
    return jid.domain === v.domain;
  }

  function itemMatches(item: PrivacyItem, other: Jid, roster: Map<string, RosterItem>): boolean {
    if (item.type === null) return true;
    if (item.value === null) return false;
    if (item.type === 'jid') return jidMatches(item.value, other);
    const contact = roster.get(other.bare);
    if (item.type === 'group') return contact?.groups.includes(item.value) ?? false;
    return (contact?.subscription ?? 'none') === item.value;
  }

  /** Whether the list blocks a stanza of that kind exchanged with `other`. */
  function blocks(eff: Effective | null, other: Jid, kind: Kind): boolean {
    if (!eff) return false;
    for (const item of eff.list.items) {
      const applies = item.stanzas.length === 0 || (kind !== 'other' && item.stanzas.includes(kind));
      if (!applies || !itemMatches(item, other, eff.roster)) continue;
      return item.action === 'deny';
    }
    return false;
  }

  const incomingKind = (stanza: Element): Kind => {
    if (stanza.name === 'message') return 'message';
    if (stanza.name === 'iq') return 'iq';
    const type = stanza.attrs.type;
    return type === undefined || type === 'unavailable' ? 'presence-in' : 'other';
  };
  const outgoingKind = (stanza: Element): Kind => {
    const type = stanza.attrs.type;
    return stanza.name === 'presence' && (type === undefined || type === 'unavailable') ? 'presence-out' : 'other';
  };

  // ---- enforcement ---------------------------------------------------------------------------

  /** The list in force for a session: null when none, undefined when the default list is not loaded yet. */
  function knownList(session: C2sSession): Effective | null | undefined {
    const active = session.data.get(ACTIVE) as Effective | null | undefined;
    if (active !== undefined) return active;
    return session.user ? defaults.get(userOf(session)) : null;
  }

  /** Route-time check of a stanza from a local user to another user: true when it was stopped. */
  function stopped(ctx: RouteContext): Promise<true | undefined> | undefined {
    const { stanza, from, to, origin } = ctx;
    if (stanza.attrs.type === 'error' || from.bare === to.bare) return undefined;
    // Nearly always nobody involved has a list: decided without a promise.
    if (origin && knownList(origin) === null) {
      const full = to.isBare ? undefined : core.sessions.get(to.bare, to.resource);
      const recipients = full ? [full] : core.sessions.available(to.bare);
      if (recipients.length > 0 && recipients.every((s) => knownList(s) === null)) return undefined;
    }
    if (!parseUserLocal(from.local)) return undefined;
    return check(ctx);
  }

  async function check({ stanza, from, to, origin }: RouteContext): Promise<true | undefined> {
    const isPresence = stanza.name === 'presence';
    if (origin && blocks(await effective(origin), to, outgoingKind(stanza))) {
      if (!isPresence) core.bounce(stanza, new StanzaError('not-acceptable', 'Your privacy list blocks this contact.'), origin);
      return true;
    }
    const recipient = parseUserLocal(to.local);
    if (!recipient) return undefined;
    const kind = incomingKind(stanza);
    const full = to.isBare ? undefined : core.sessions.get(to.bare, to.resource);
    const sessions = full ? [full] : core.sessions.available(to.bare);
    const decisions = sessions.length > 0
      ? await Promise.all(sessions.map(async (s) => blocks(await effective(s), from, kind)))
      : [blocks(await loadDefault(recipient.userId), from, kind)];
    // Partly blocked: the outgoing filter keeps it from the sessions that block it.
    if (!decisions.every(Boolean)) return undefined;
    if (!isPresence) core.bounce(stanza, new StanzaError('service-unavailable', 'Service not available.'), origin);
    return true;
  }
  // First in the outbound phase: a blocked stanza is refused before anything stores or acts on it.
  core.on('message/outbound', 'privacy', stopped);
  core.on('presence/outbound', 'privacy', stopped);

  // Every stanza on its way to a client: the client's list (incoming), and for presence the
  // sender's list (outgoing, e.g. broadcasts). Errors always pass, so a sender learns of a block.
  core.addOutgoingFilter((session, el) => {
    if (el.name !== 'message' && el.name !== 'presence' && el.name !== 'iq') return el;
    if (el.attrs.type === 'error' || !session.jid || !el.attrs.from) return el;
    const own = effectiveNow(session);
    if (!own && el.name !== 'presence') return el; // the common case: nothing to check
    const from = Jid.parse(el.attrs.from);
    if (!from || !from.local || from.bare === session.jid.bare) return el;
    if (blocks(own, from, incomingKind(el))) return null;
    if (el.name === 'presence' && from.resource) {
      const sender = core.sessions.get(from.bare, from.resource);
      if (sender && blocks(effectiveNow(sender), session.jid, outgoingKind(el))) return null;
    }
    return el;
  });

  core.on('session/bound', 'privacy', async ({ session }: { session: C2sSession }) => {
    await loadDefault(userOf(session));
    return undefined;
  });

  // The active list travels by name (null: declined); absent means the default applies.
  core.carrySessionState('privacy', {
    save: (session) => {
      const active = session.data.get(ACTIVE) as Effective | null | undefined;
      return active === undefined ? undefined : active?.list.name ?? null;
    },
    restore: async (session, saved) => {
      if (saved === null) return void session.data.set(ACTIVE, null);
      if (typeof saved !== 'string') return;
      const list = await store.getList(userOf(session), saved);
      if (list) session.data.set(ACTIVE, await withRoster(userOf(session), list));
    },
  });

  // ---- jabber:iq:privacy ---------------------------------------------------------------------

  function parseItem(el: Element): PrivacyItem {
    const { type, value, action, order } = el.attrs;
    if (action !== 'allow' && action !== 'deny') throw new StanzaError('bad-request', 'An item needs action="allow" or "deny".');
    if (order === undefined || !/^\d{1,9}$/.test(order)) throw new StanzaError('bad-request', 'An item needs a non-negative integer order.');
    if (type !== undefined && type !== 'jid' && type !== 'group' && type !== 'subscription') throw new StanzaError('bad-request', `Unknown item type "${type}".`);
    if (type !== undefined && (value === undefined || value === '')) throw new StanzaError('bad-request', 'A typed item needs a value.');
    if (type === 'jid' && !Jid.parse(value!)) throw new StanzaError('bad-request', 'The item value is not a JID.');
    if (type === 'subscription' && !['none', 'to', 'from', 'both'].includes(value!)) throw new StanzaError('bad-request', 'Unknown subscription value.');
    const stanzas = el.getChildren().map((c) => c.localName);
    for (const s of stanzas) if (!(KINDS as readonly string[]).includes(s)) throw new StanzaError('bad-request', `Unknown stanza kind <${s}/>.`);
    return { type: (type as PrivacyItem['type']) ?? null, value: type === undefined ? null : value!, action, order: Number(order), stanzas: [...new Set(stanzas)] as PrivacyItem['stanzas'] };
  }

  const itemElement = (item: PrivacyItem): Element => {
    const el = xml('item', item.type ? { type: item.type, value: item.value ?? '', action: item.action, order: String(item.order) } : { action: item.action, order: String(item.order) });
    for (const s of item.stanzas) el.c(s);
    return el;
  };

  const ownSession = (ctx: { from: Jid; to: Jid; session: C2sSession | null }): C2sSession => {
    if (ctx.to.bare !== ctx.from.bare || !ctx.session?.user) throw new StanzaError('forbidden', "Another user's privacy lists are not yours.");
    return ctx.session;
  };

  /** Sessions of the user other than `except` whose list in force is `name`. */
  const othersUsing = (session: C2sSession, name: string): C2sSession[] =>
    core.sessions.resources(session.jid!.bare).filter((s) => s !== session && (s.data.get(ACTIVE) as Effective | null | undefined)?.list.name === name);

  core.addDiscoFeature(NS_PRIVACY);
  core.handleIq({
    scope: 'account',
    xmlns: NS_PRIVACY,
    name: 'query',
    get: async (ctx) => {
      const session = ownSession(ctx);
      const userId = userOf(session);
      const children = ctx.payload.getChildren();
      if (children.length === 0) {
        const query = xml('query', { xmlns: NS_PRIVACY });
        const active = session.data.get(ACTIVE) as Effective | null | undefined;
        const def = await loadDefault(userId);
        const activeName = active === undefined ? def?.list.name : active?.list.name;
        if (activeName) query.c('active', { name: activeName });
        if (def) query.c('default', { name: def.list.name });
        for (const name of await store.listNames(userId)) query.c('list', { name });
        return query;
      }
      if (children.length !== 1 || children[0]!.localName !== 'list' || !children[0]!.attrs.name) throw new StanzaError('bad-request', 'Ask for one list by name.');
      const list = await store.getList(userId, children[0]!.attrs.name);
      if (!list) throw new StanzaError('item-not-found', 'There is no list with that name.');
      return xml('query', { xmlns: NS_PRIVACY }, xml('list', { name: list.name }, ...list.items.map(itemElement)));
    },
    set: async (ctx) => {
      const session = ownSession(ctx);
      const userId = userOf(session);
      const children = ctx.payload.getChildren();
      if (children.length !== 1) throw new StanzaError('bad-request', 'A privacy set carries exactly one element.');
      const el = children[0]!;
      const name = el.attrs.name;
      switch (el.localName) {
        case 'active': {
          if (!name) {
            session.data.set(ACTIVE, null);
            return null;
          }
          const list = await store.getList(userId, name);
          if (!list) throw new StanzaError('item-not-found', 'There is no list with that name.');
          session.data.set(ACTIVE, await withRoster(userId, list));
          return null;
        }
        case 'default': {
          if (!(await store.setDefault(userId, name ?? null))) throw new StanzaError('item-not-found', 'There is no list with that name.');
          defaults.delete(userId);
          await loadDefault(userId);
          return null;
        }
        case 'list': {
          if (!name) throw new StanzaError('bad-request', 'A list needs a name.');
          const items = el.getChildren('item').map(parseItem);
          if (el.getChildren().length !== items.length) throw new StanzaError('bad-request', 'A list holds items only.');
          if (items.length === 0) {
            // An empty list removes it (XEP-0016 §2.8): not while another resource applies it, nor while it is the default.
            if (othersUsing(session, name).length > 0) throw new StanzaError('conflict', 'The list is active for another resource.');
            if ((await loadDefault(userId))?.list.name === name) throw new StanzaError('conflict', 'The default list cannot be removed; decline it first.');
            if (!(await store.removeList(userId, name))) throw new StanzaError('item-not-found', 'There is no list with that name.');
            if ((session.data.get(ACTIVE) as Effective | null | undefined)?.list.name === name) session.data.set(ACTIVE, null);
          } else {
            if (new Set(items.map((i) => i.order)).size !== items.length) throw new StanzaError('bad-request', 'Item orders must be unique.');
            const list: PrivacyList = { name, items: [...items].sort((a, b) => a.order - b.order) };
            await store.setList(userId, list);
            // The edited list applies at once wherever it is in force.
            const fresh = await withRoster(userId, list);
            if (defaults.get(userId)?.list.name === name) defaults.set(userId, fresh);
            for (const s of core.sessions.resources(session.jid!.bare)) {
              if ((s.data.get(ACTIVE) as Effective | null | undefined)?.list.name === name) s.data.set(ACTIVE, fresh);
            }
          }
          // §2.6: every resource of the user learns that the list changed.
          for (const s of core.sessions.resources(session.jid!.bare)) {
            s.send(xml('iq', { type: 'set', id: `privacy-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, to: s.jid!.toString() },
              xml('query', { xmlns: NS_PRIVACY }, xml('list', { name }))));
          }
          return null;
        }
        default:
          throw new StanzaError('bad-request', `<${el.localName}/> is not a privacy operation.`);
      }
    },
  });
}
