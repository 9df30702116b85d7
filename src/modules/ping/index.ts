// XMPP ping (XEP-0199), answered by the server.
import type { ModuleApi } from '../../core/api.js';
import { NS_PING } from '../../xmpp/ns.js';

export function pingModule(core: ModuleApi): void {
  core.addDiscoFeature(NS_PING);
  core.handleIq({ scope: 'host', xmlns: NS_PING, name: 'ping', get: () => null });
}
