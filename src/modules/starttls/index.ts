// STARTTLS (RFC 6120 §5): offered on plain TCP while a certificate is loaded; required when configured.
import type { ModuleApi } from '../../core/api.js';
import { xml } from '../../xml/element.js';
import { NS_TLS } from '../../xmpp/ns.js';
import { StreamError } from '../../xmpp/errors.js';

export function starttlsModule(core: ModuleApi): void {
  const required = core.config.require_starttls;
  core.addStreamFeature('negotiating', (session) =>
    session.connection.canStartTls ? xml('starttls', { xmlns: NS_TLS }, required ? xml('required') : null) : null,
  0);
  core.handleNonza(NS_TLS, 'starttls', (session) => {
    if (!session.connection.canStartTls || session.authenticated) {
      session.send(xml('failure', { xmlns: NS_TLS }));
      return session.close();
    }
    session.connection.startTls(xml('proceed', { xmlns: NS_TLS }));
  });
  if (required) {
    core.on('c2s/element', 'starttls', ({ session, element }) => {
      if (!session.connection.secure && session.connection.canStartTls && element.attrs.xmlns !== NS_TLS) {
        session.close(new StreamError('policy-violation', 'STARTTLS is required on this server'));
        return true;
      }
      return undefined;
    });
  }
}
