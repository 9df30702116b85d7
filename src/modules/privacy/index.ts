// Privacy lists (XEP-0016, jabber:iq:privacy) as QuickBlox uses them: the SDK blocks a user with a
// pair of items, the user's JID and `muc.<domain>/<userId>` (that user's messages in every room).
// Lists are stored per user with one default; the active list is per session (it starts as the
// default). Blocking:
// - a 1-1 message or IQ to a user whose list blocks the sender → `service-unavailable` (503);
//   one the sender's own list blocks (items without children) → `not-acceptable`;
// - presences are dropped silently, groupchat reflections from a blocked occupant too;
// - a user with no available resource is judged by the default list (nothing goes offline).
// In a cluster a session's active list, when not the default, is published with its location (the
// routing module keeps the registry current through `onActiveChange`); a sender's node judges the
// recipient's resources on other nodes by those lists (loaded from the shared store), so a message
// every resource blocks is refused before anything stores it, wherever the resources are.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { Element, xml } from '../../xml/element.js';
import { Jid, parseUserLocal, userLocal, type UserAddress } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import type { PrivacyItem, PrivacyList, PrivacyStore, RosterStore } from '../../storage/types.js';
import { listBlocks, withRoster as sharedWithRoster, type EffectiveList } from '../../chat/privacy.js';
import { DefaultLists } from './default-lists.js';

export const NS_PRIVACY = 'jabber:iq:privacy';

/** How long a loaded default list is used before it is read again (other nodes, roster changes). */
const DEFAULT_LIST_FRESH_MS = 5_000;
/** Users whose default list is kept in memory at most. */
const DEFAULT_LISTS_KEPT = 50_000;

/** What a stanza is, for a list: incoming message/iq/presence, outgoing presence, or anything else. */
type Kind = 'message' | 'iq' | 'presence-in' | 'presence-out' | 'other';
const KINDS = ['message', 'iq', 'presence-in', 'presence-out'] as const;

/** A list in force, with the roster it was matched against (for group and subscription items). */
type Effective = EffectiveList;

/** Per session: the active list (null = declined) — absent means "the default list". */
const ACTIVE = Symbol('privacy-active');

/** What other modules (XEP-0191 blocking) use to keep the lists in force in step with the store. */
export interface PrivacyModule {
  /** A list of the user's was stored elsewhere: it applies at once wherever it is in force (default or active). */
  listChanged(user: UserAddress, list: PrivacyList): Promise<void>;
  /** The user's default list changed (set or declined) elsewhere. */
  defaultChanged(userId: number): Promise<void>;
  /** The session's list in force when it is not the default: its name, or null (declined); undefined: the default. */
  activeList(session: C2sSession): string | null | undefined;
  /** Called (and awaited) after a session's active list changed, before the change is answered. */
  onActiveChange(listener: (session: C2sSession) => Promise<void>): void;
  /**
   * How to learn, in a cluster, the list marks (as `activeList` gives them) of the available
   * resources of `to` (only that resource, for a full JID) on other nodes.
   */
  consultRemote(lookup: (to: Jid) => Promise<Array<string | null | undefined>>): void;
}

export function privacyModule(core: ModuleApi, store: PrivacyStore, rosters: RosterStore): PrivacyModule {
  const userOf = (session: C2sSession): number => session.user!.userId;
  let activeChanged: ((session: C2sSession) => Promise<void>) | null = null;
  let remoteMarks: ((to: Jid) => Promise<Array<string | null | undefined>>) | null = null;
  const setActive = async (session: C2sSession, list: Effective | null): Promise<void> => {
    session.data.set(ACTIVE, list);
    // In force here at once; a registry that fails to take it leaves other nodes judging by the previous one.
    await activeChanged?.(session).catch((err: unknown) => core.log.warn({ err }, 'publishing the active privacy list failed'));
  };

  const withRoster = (userId: number, list: PrivacyList | null): Promise<Effective | null> => sharedWithRoster({ roster: rosters }, userId, list);

  /** Default lists by user id, loaded on demand (null: none), read again after a few seconds. */
  const defaults = new DefaultLists(async (userId) => withRoster(userId, await store.getDefault(userId)), {
    freshMs: DEFAULT_LIST_FRESH_MS,
    capacity: DEFAULT_LISTS_KEPT,
  });
  const loadDefault = (userId: number): Promise<Effective | null> => defaults.get(userId);

  /** The list in force for a session, if already known (synchronous use in the outgoing filter). */
  function effectiveNow(session: C2sSession): Effective | null {
    const active = session.data.get(ACTIVE) as Effective | null | undefined;
    if (active !== undefined) return active;
    return session.user ? defaults.known(userOf(session)) ?? null : null;
  }

  async function effective(session: C2sSession): Promise<Effective | null> {
    const active = session.data.get(ACTIVE) as Effective | null | undefined;
    if (active !== undefined) return active;
    return loadDefault(userOf(session));
  }

  // ---- matching (XEP-0016 §2.1): the rules live in chat/privacy.ts, shared with REST ----------

  /** Whether the list blocks a stanza of that kind exchanged with `other`. */
  const blocks = (eff: Effective | null, other: Jid, kind: Kind): boolean => listBlocks(eff, other, kind, core.mucDomain);

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

  /** The list in force for a session: null when none, undefined when the default list is not loaded yet or due to be read again. */
  function knownList(session: C2sSession): Effective | null | undefined {
    const active = session.data.get(ACTIVE) as Effective | null | undefined;
    if (active !== undefined) return active;
    return session.user ? defaults.fresh(userOf(session)) : null;
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

  /** A remote session's list in force, from its mark: the default, none (declined), or a named list read from the store. */
  async function listByMark(userId: number, mark: string | null | undefined): Promise<Effective | null> {
    if (mark === undefined) return loadDefault(userId);
    if (mark === null) return null;
    const list = await store.getList(userId, mark);
    return list ? withRoster(userId, list) : null;
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
    const decisions = await Promise.all(sessions.map(async (s) => blocks(await effective(s), from, kind)));
    // Partly blocked: the outgoing filter keeps it from the sessions that block it.
    if (!decisions.every(Boolean)) return undefined;
    // Every resource here blocks it (or there is none here): the resources on other nodes count too.
    const remote = full || !remoteMarks ? [] : await remoteMarks(to);
    for (const mark of remote) {
      if (!blocks(await listByMark(recipient.userId, mark), from, kind)) return undefined;
    }
    if (sessions.length === 0 && remote.length === 0 && !blocks(await loadDefault(recipient.userId), from, kind)) return undefined;
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
      if (saved === null) return setActive(session, null);
      if (typeof saved !== 'string') return;
      const list = await store.getList(userOf(session), saved);
      if (list) await setActive(session, await withRoster(userOf(session), list));
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

  /** An edited list applies at once wherever it is in force. */
  async function applyEdited(user: UserAddress, list: PrivacyList): Promise<void> {
    const fresh = await withRoster(user.userId, list);
    if (defaults.known(user.userId)?.list.name === list.name) defaults.set(user.userId, fresh);
    for (const s of core.sessions.resources(`${userLocal(user)}@${core.domain}`)) {
      if ((s.data.get(ACTIVE) as Effective | null | undefined)?.list.name === list.name) s.data.set(ACTIVE, fresh);
    }
  }

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
            await setActive(session, null);
            return null;
          }
          const list = await store.getList(userId, name);
          if (!list) throw new StanzaError('item-not-found', 'There is no list with that name.');
          await setActive(session, await withRoster(userId, list));
          return null;
        }
        case 'default': {
          if (!(await store.setDefault(userId, name ?? null))) throw new StanzaError('item-not-found', 'There is no list with that name.');
          defaults.forget(userId);
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
            if ((session.data.get(ACTIVE) as Effective | null | undefined)?.list.name === name) await setActive(session, null);
          } else {
            if (new Set(items.map((i) => i.order)).size !== items.length) throw new StanzaError('bad-request', 'Item orders must be unique.');
            const list: PrivacyList = { name, items: [...items].sort((a, b) => a.order - b.order) };
            await store.setList(userId, list);
            await applyEdited(session.user!, list);
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
  return {
    listChanged: applyEdited,
    async defaultChanged(userId) {
      defaults.forget(userId);
      await loadDefault(userId);
    },
    activeList(session) {
      const active = session.data.get(ACTIVE) as Effective | null | undefined;
      return active === undefined ? undefined : active?.list.name ?? null;
    },
    onActiveChange(listener) {
      activeChanged = listener;
    },
    consultRemote(lookup) {
      remoteMarks = lookup;
    },
  };
}
