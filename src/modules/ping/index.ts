// XMPP ping (XEP-0199), answered by the server; a ping to a user's bare JID is answered by the
// server on the user's behalf: result when they have an available resource anywhere in the
// cluster, service-unavailable otherwise (the QuickBlox call samples ping a callee to decide
// whether a VoIP push is needed).
import type { ModuleApi } from '../../core/api.js';
import type { PresenceDirectory } from '../../push/presence.js';
import { StanzaError } from '../../xmpp/errors.js';
import { parseUserLocal } from '../../xmpp/jid.js';
import { NS_PING } from '../../xmpp/ns.js';

export function pingModule(core: ModuleApi): void {
  core.addDiscoFeature(NS_PING);
  core.handleIq({ scope: 'host', xmlns: NS_PING, name: 'ping', get: () => null });
}

export function userPingModule(core: ModuleApi, presence: PresenceDirectory): void {
  core.handleIq({
    scope: 'account',
    xmlns: NS_PING,
    name: 'ping',
    get: async ({ from, to }) => {
      if (from.bare === to.bare) return null; // one's own bare JID: like a ping to the server
      const user = parseUserLocal(to.local);
      if (user && (await presence.isAvailable(user.appId, user.userId))) return null;
      throw new StanzaError('service-unavailable', 'the user is not online');
    },
  });
}
