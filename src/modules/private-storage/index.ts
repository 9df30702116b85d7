// Private XML storage (XEP-0049, jabber:iq:private), and with it bookmarks in the XEP-0048 form
// (`<storage xmlns="storage:bookmarks">`). Each child element is stored under its name and
// namespace in the key-value store; only the account itself may read or write it.
import type { ModuleApi as Core, IqContext } from '../../core/api.js';
import type { KeyValueStore } from '../../storage/account-data-types.js';
import { Element, xml } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { StanzaError } from '../../xmpp/errors.js';

export const NS_PRIVATE = 'jabber:iq:private';
const MAX_CHILDREN = 16;

export function privateStorageModule(core: Core, store: KeyValueStore): void {
  const keyOf = (el: Element): string => {
    const ns = el.attrs.xmlns;
    if (!ns) throw new StanzaError('bad-request', 'Private data needs its own namespace.');
    if (ns === NS_PRIVATE || ns.startsWith('jabber:') && ns !== 'jabber:x:data') throw new StanzaError('not-acceptable', `The ${ns} namespace cannot be stored.`);
    return `private:${ns} ${el.localName}`;
  };
  const owner = ({ from, to, session }: IqContext): number => {
    if (from.bare !== to.bare || !session?.user) throw new StanzaError('forbidden', "Another account's private data is not yours.");
    return session.user.userId;
  };
  const children = (payload: Element): Element[] => {
    const list = payload.getChildren();
    if (list.length === 0) throw new StanzaError('bad-request', 'Name the data: one child element.');
    if (list.length > MAX_CHILDREN) throw new StanzaError('policy-violation', `At most ${MAX_CHILDREN} elements at once.`);
    return list;
  };

  core.handleIq({
    scope: 'account',
    xmlns: NS_PRIVATE,
    name: 'query',
    get: async (ctx) => {
      const userId = owner(ctx);
      const out = xml('query', { xmlns: NS_PRIVATE });
      for (const el of children(ctx.payload)) {
        const stored = await store.get('user', userId, keyOf(el));
        out.append((stored ? parseElement(stored) : null) ?? new Element(el.localName, { xmlns: el.attrs.xmlns! }));
      }
      return out;
    },
    set: async (ctx) => {
      const userId = owner(ctx);
      const list = children(ctx.payload);
      const keys = list.map(keyOf);
      for (let i = 0; i < list.length; i++) {
        const el = list[i]!;
        await store.set('user', userId, keys[i]!, el.getChildren().length === 0 && el.text() === '' ? null : el.toString());
      }
      return null;
    },
  });
}
