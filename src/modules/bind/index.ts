// Resource binding (RFC 6120 §7): the client's resource, or one we generate.
import { randomBytes } from 'node:crypto';
import type { ModuleApi } from '../../core/api.js';
import { xml } from '../../xml/element.js';
import { NS_BIND } from '../../xmpp/ns.js';
import { Jid } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';

export function bindModule(core: ModuleApi): void {
  core.addStreamFeature('authenticated', (session) => (session.state === 'authenticated' ? xml('bind', { xmlns: NS_BIND }) : null), 10);
  core.handleIq({
    scope: 'host',
    xmlns: NS_BIND,
    name: 'bind',
    beforeBind: true,
    set: ({ session, payload }) => {
      if (!session || session.state !== 'authenticated') throw new StanzaError('not-allowed', 'a resource is already bound');
      const requested = payload.getChildText('resource')?.trim();
      let resource = requested || `parley-${randomBytes(6).toString('hex')}`;
      const check = Jid.parse(`x@${core.domain}/${resource}`);
      if (!check) throw new StanzaError('bad-request', 'the resource is not valid');
      resource = check.resource;
      core.makeRoomToBind(session, resource);
      const jid = session.bind(resource);
      return xml('bind', { xmlns: NS_BIND }, xml('jid', null, jid.toString()));
    },
  });
}
