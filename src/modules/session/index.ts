// The legacy session IQ (RFC 3921 §3): still sent by many clients, QuickBlox's included.
import type { ModuleApi } from '../../core/api.js';
import { xml } from '../../xml/element.js';
import { NS_SESSION } from '../../xmpp/ns.js';

export function sessionModule(core: ModuleApi): void {
  core.addStreamFeature('authenticated', () => xml('session', { xmlns: NS_SESSION }, xml('optional')), 20);
  core.handleIq({ scope: 'host', xmlns: NS_SESSION, name: 'session', beforeBind: true, set: () => null });
}
