// Service discovery (XEP-0030) for the server and for accounts.
import type { ModuleApi } from '../../core/api.js';
import { xml } from '../../xml/element.js';
import { NS_DISCO_INFO, NS_DISCO_ITEMS } from '../../xmpp/ns.js';
import { StanzaError } from '../../xmpp/errors.js';

export function discoModule(core: ModuleApi): void {
  core.addDiscoFeature(NS_DISCO_INFO);
  core.addDiscoFeature(NS_DISCO_ITEMS);
  core.handleIq({
    scope: 'host',
    xmlns: NS_DISCO_INFO,
    name: 'query',
    get: ({ payload }) => {
      if (payload.attrs.node) throw new StanzaError('item-not-found');
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        xml('identity', { category: 'server', type: 'im', name: 'Parley' }),
        ...core.serverFeatures.sort().map((v) => xml('feature', { var: v })),
      );
    },
  });
  core.handleIq({
    scope: 'host',
    xmlns: NS_DISCO_ITEMS,
    name: 'query',
    get: async (ctx) => {
      if (ctx.payload.attrs.node) throw new StanzaError('item-not-found');
      const query = xml('query', { xmlns: NS_DISCO_ITEMS });
      await core.run('disco/items', { query, from: ctx.from, to: ctx.to });
      return query;
    },
  });
  core.handleIq({
    scope: 'account',
    xmlns: NS_DISCO_INFO,
    name: 'query',
    get: () => xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'account', type: 'registered' })),
  });
}
