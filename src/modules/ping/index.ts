// XMPP ping (XEP-0199), answered by the server.
import type { Core } from '../../core/core.js';
import { NS_PING } from '../../xmpp/ns.js';

export function pingModule(core: Core): void {
  core.addDiscoFeature(NS_PING);
  core.handleIq({ scope: 'host', xmlns: NS_PING, name: 'ping', get: () => null });
}
