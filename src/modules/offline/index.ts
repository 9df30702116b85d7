// Offline storage (XEP-0160): chat and normal messages with a body, for a user with no available
// resource, are stored with an XEP-0203 delay and delivered oldest first after the next initial
// presence. Chat states, headlines and errors are never stored.
import type { Core, RouteContext } from '../../core/core.js';
import type { C2sSession } from '../../core/session.js';
import { xml } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { NS_DELAY } from '../../xmpp/ns.js';
import { StanzaError } from '../../xmpp/errors.js';
import { parseUserLocal } from '../../xmpp/jid.js';
import type { OfflineStore } from '../../storage/types.js';

export function offlineModule(core: Core, store: OfflineStore): void {
  core.hooks.on(
    'message/bare',
    async ({ stanza, to, origin }: RouteContext) => {
      const type = stanza.attrs.type ?? 'normal';
      if (type !== 'chat' && type !== 'normal') return undefined;
      if (!stanza.getChild('body')) return true; // chat states and receipts are not kept
      const user = parseUserLocal(to.local)!;
      const stored = stanza.clone();
      stored.append(xml('delay', { xmlns: NS_DELAY, from: core.domain, stamp: new Date().toISOString() }, 'Offline Storage'));
      if (!(await store.push(user.userId, stored.toString(), core.config.offline_limit))) {
        core.bounce(stanza, new StanzaError('service-unavailable', 'the recipient has too many offline messages'), origin);
      }
      return true;
    },
    -10,
  );

  core.hooks.on('presence/initial', async ({ session }: { session: C2sSession }) => {
    const user = session.user!;
    const messages = await store.list(user.userId);
    if (messages.length === 0) return;
    const delivered: number[] = [];
    for (const message of messages) {
      const el = parseElement(message.stanza);
      if (el) session.send(el);
      delivered.push(message.id);
    }
    await store.remove(delivered);
  });
}
