// Blocking (XEP-0191, urn:xmpp:blocking) as a view of the user's default privacy list (XEP-0016),
// the same storage QuickBlox apps write through the SDK's privacy-list calls, so a block set by
// either is honoured by both and enforced by the one privacy module.
// - The blocklist: every `deny` item of the default list of type jid that blocks messages (no
//   stanza kinds, or <message/> among them), except the QuickBlox room-nick companions
//   `muc.<domain>/<userId>`.
// - Blocking a user JID adds the pair the QuickBlox SDK writes (the JID, and `muc.<domain>/<userId>`
//   for their messages in rooms), without stanza kinds: everything both ways is blocked. The pair
//   goes first in the list, so no earlier allow item can undo it. A user without a default list
//   gets one named "blocklist", made the default.
// - Unblocking removes a JID's deny items (and its companion); an empty <unblock/> removes all.
import type { ModuleApi as Core } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { PrivacyItem, PrivacyList, PrivacyStore } from '../../storage/types.js';
import { Element, xml } from '../../xml/element.js';
import { StanzaError } from '../../xmpp/errors.js';
import { Jid, parseUserLocal, type UserAddress } from '../../xmpp/jid.js';
import type { PrivacyModule } from '../privacy/index.js';

export const NS_BLOCKING = 'urn:xmpp:blocking';
const NEW_LIST = 'blocklist';
const MAX_ITEMS = 100;
/** Per session: it asked for the blocklist, so it gets pushes (XEP-0191 §3.3). */
const WANTS_PUSHES = Symbol('blocking-pushes');

export function blockingModule(core: Core, store: PrivacyStore, privacy: PrivacyModule): void {
  /** Changes of one user's list run one after another (read, change, write). */
  const queues = new Map<number, Promise<unknown>>();
  const serial = <T>(userId: number, fn: () => Promise<T>): Promise<T> => {
    const run = (queues.get(userId) ?? Promise.resolve()).catch(() => undefined).then(fn);
    queues.set(userId, run);
    void run.finally(() => queues.get(userId) === run && queues.delete(userId)).catch(() => undefined);
    return run;
  };

  const companionOf = (jid: Jid): string | null => {
    const user = jid.domain === core.domain && !jid.resource ? parseUserLocal(jid.local) : null;
    return user ? `${core.mucDomain}/${user.userId}` : null;
  };
  const isCompanion = (value: string): boolean => {
    const jid = Jid.parse(value);
    return jid !== null && jid.domain === core.mucDomain && !jid.local && /^[1-9][0-9]*$/.test(jid.resource);
  };
  const blocksMessages = (item: PrivacyItem): boolean =>
    item.type === 'jid' && item.action === 'deny' && item.value !== null && (item.stanzas.length === 0 || item.stanzas.includes('message'));

  /** The JIDs the list blocks, as the blocklist shows them (normalized, each once, in list order). */
  function blocklist(list: PrivacyList | null): string[] {
    const out = new Set<string>();
    for (const item of list?.items ?? []) {
      if (!blocksMessages(item) || isCompanion(item.value!)) continue;
      out.add(Jid.parse(item.value!)?.toString() ?? item.value!);
    }
    return [...out];
  }

  function readJids(el: Element, atLeastOne: boolean): Jid[] {
    const items = el.getChildren('item');
    if (items.length > MAX_ITEMS) throw new StanzaError('policy-violation', `At most ${MAX_ITEMS} items at once.`);
    if (atLeastOne && items.length === 0) throw new StanzaError('bad-request', 'Say whom to block.');
    return items.map((item) => {
      const jid = Jid.parse(item.attrs.jid ?? '');
      if (!jid) throw new StanzaError('jid-malformed', `${item.attrs.jid ?? '(none)'} is not a JID.`);
      return jid;
    });
  }

  const renumber = (items: PrivacyItem[]): PrivacyItem[] => items.map((item, i) => ({ ...item, order: i + 1 }));

  async function change(user: UserAddress, edit: (list: PrivacyList) => PrivacyItem[]): Promise<void> {
    await serial(user.userId, async () => {
      const current = await store.getDefault(user.userId);
      const list: PrivacyList = current ?? { name: NEW_LIST, items: [] };
      const items = edit(list);
      if (current && items === current.items) return;
      const next: PrivacyList = { name: list.name, items: renumber(items) };
      if (next.items.length === 0) {
        // XEP-0016 has no empty lists: the emptied default list is declined and removed.
        await store.setDefault(user.userId, null);
        await store.removeList(user.userId, next.name);
        await privacy.defaultChanged(user.userId);
        await privacy.listChanged(user, next);
        return;
      }
      await store.setList(user.userId, next);
      if (!current) {
        await store.setDefault(user.userId, next.name);
        await privacy.defaultChanged(user.userId);
      }
      await privacy.listChanged(user, next);
    });
  }

  const push = (session: C2sSession, payload: Element): void => {
    for (const s of core.sessions.resources(session.jid!.bare)) {
      if (!s.data.get(WANTS_PUSHES)) continue;
      s.send(xml('iq', { type: 'set', id: `block-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, to: s.jid!.toString() }, payload.clone()));
    }
  };

  const own = (ctx: { from: Jid; to: Jid; session: C2sSession | null }): { session: C2sSession; user: UserAddress } => {
    if (ctx.to.bare !== ctx.from.bare || !ctx.session?.user) throw new StanzaError('forbidden', "Another user's blocklist is not yours.");
    return { session: ctx.session, user: ctx.session.user };
  };

  core.addDiscoFeature(NS_BLOCKING);
  core.handleIq({
    scope: 'account',
    xmlns: NS_BLOCKING,
    name: 'blocklist',
    get: async (ctx) => {
      const { session, user } = own(ctx);
      session.data.set(WANTS_PUSHES, true);
      const jids = blocklist(await store.getDefault(user.userId));
      return xml('blocklist', { xmlns: NS_BLOCKING }, ...jids.map((jid) => xml('item', { jid })));
    },
  });
  core.handleIq({
    scope: 'account',
    xmlns: NS_BLOCKING,
    name: 'block',
    set: async (ctx) => {
      const { session, user } = own(ctx);
      const jids = readJids(ctx.payload, true);
      await change(user, (list) => {
        const blocked = new Set(blocklist(list));
        const added: PrivacyItem[] = [];
        for (const jid of jids) {
          if (blocked.has(jid.toString())) continue;
          blocked.add(jid.toString());
          added.push({ type: 'jid', value: jid.toString(), action: 'deny', order: 0, stanzas: [] });
          const companion = companionOf(jid);
          if (companion) added.push({ type: 'jid', value: companion, action: 'deny', order: 0, stanzas: [] });
        }
        return added.length === 0 ? list.items : [...added, ...list.items];
      });
      push(session, xml('block', { xmlns: NS_BLOCKING }, ...jids.map((jid) => xml('item', { jid: jid.toString() }))));
      return null;
    },
  });
  core.handleIq({
    scope: 'account',
    xmlns: NS_BLOCKING,
    name: 'unblock',
    set: async (ctx) => {
      const { session, user } = own(ctx);
      const jids = readJids(ctx.payload, false);
      await change(user, (list) => {
        let drop: (item: PrivacyItem) => boolean;
        if (jids.length === 0) {
          drop = (item) => blocksMessages(item);
        } else {
          const values = new Set<string>();
          for (const jid of jids) {
            values.add(jid.toString());
            const companion = companionOf(jid);
            if (companion) values.add(companion);
          }
          drop = (item) => blocksMessages(item) && values.has(Jid.parse(item.value!)?.toString() ?? item.value!);
        }
        const kept = list.items.filter((item) => !drop(item));
        return kept.length === list.items.length ? list.items : kept;
      });
      push(session, xml('unblock', { xmlns: NS_BLOCKING }, ...jids.map((jid) => xml('item', { jid: jid.toString() }))));
      return null;
    },
  });
}
