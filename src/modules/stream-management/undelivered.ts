// What becomes of the stanzas a session never had acknowledged when it ends for good (XEP-0198 §4:
// treat them as if sent to an unavailable resource). Nothing disappears silently:
// - a stanza whose sender asked for the outcome (an offline message being flushed) is reported
//   undelivered, so its owner keeps it;
// - a chat or normal message is routed again: to the resources that did not get it, else to
//   offline storage (which bounces it to its sender when the recipient's storage is full);
// - an IQ request is answered with service-unavailable; presence, groupchat, headline and error
//   messages are dropped as they would be for an unavailable resource.
import type { ModuleApi } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { StanzaError } from '../../xmpp/errors.js';
import { Jid } from '../../xmpp/jid.js';
import type { Unacked } from './counters.js';

/** When a session became available (to tell which resources a bare-JID message reached); unknown counts as just now. */
export type AvailableSince = (session: C2sSession) => number | undefined;

export async function settleUndelivered(core: ModuleApi, items: Unacked[], availableSince: AvailableSince): Promise<void> {
  for (const item of items) {
    if (item.outcome) {
      item.outcome(false);
      continue;
    }
    const { stanza } = item;
    const type = stanza.attrs.type;
    if (stanza.name === 'iq') {
      if (type === 'get' || type === 'set') core.bounce(stanza, new StanzaError('service-unavailable', 'the recipient went away before receiving this'));
      continue;
    }
    if (stanza.name !== 'message' || (type !== undefined && type !== 'chat' && type !== 'normal')) continue;
    const to = Jid.parse(stanza.attrs.to ?? '');
    if (!to?.local) continue;
    const bare = to.toBare();
    const available = core.sessions.available(bare.toString());
    if (to.isBare && available.length > 0) {
      // Sent to the bare JID, it reached every resource available then: only later ones lack it.
      for (const other of available) if ((availableSince(other) ?? Infinity) > item.queuedAt) other.send(stanza);
      continue;
    }
    const from = Jid.parse(stanza.attrs.from ?? '') ?? Jid.of('', core.domain);
    await core.deliver('message/bare', { stanza, from, to: bare, origin: null, redelivery: true });
  }
}
