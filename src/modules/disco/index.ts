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
    get: async (ctx) => {
      const node = ctx.payload.attrs.node;
      if (node) {
        const query = xml('query', { xmlns: NS_DISCO_INFO, node });
        if ((await core.run('disco/node-info', { from: ctx.from, to: ctx.to, node, query })) === undefined) throw new StanzaError('item-not-found');
        return query;
      }
      const query = xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        xml('identity', { category: 'server', type: 'im', name: 'Parley' }),
        ...core.serverFeatures.sort().map((v) => xml('feature', { var: v })),
      );
      // Modules add identities and XEP-0128 extension forms (upload limits) through 'disco/server-info'.
      await core.run('disco/server-info', { from: ctx.from, to: ctx.to, query });
      return query;
    },
  });
  core.handleIq({
    scope: 'host',
    xmlns: NS_DISCO_ITEMS,
    name: 'query',
    get: async (ctx) => {
      const node = ctx.payload.attrs.node;
      if (node) {
        // A node's items (ad-hoc commands' list): the module owning the node answers through 'disco/node-items'.
        const query = xml('query', { xmlns: NS_DISCO_ITEMS, node });
        if ((await core.run('disco/node-items', { from: ctx.from, to: ctx.to, node, query })) === undefined) throw new StanzaError('item-not-found');
        return query;
      }
      const query = xml('query', { xmlns: NS_DISCO_ITEMS });
      await core.run('disco/items', { query, from: ctx.from, to: ctx.to });
      return query;
    },
  });
  core.handleIq({
    scope: 'account',
    xmlns: NS_DISCO_INFO,
    name: 'query',
    // Modules that serve accounts (archive, PEP) add their features through 'disco/account-info'.
    get: async (ctx) => {
      const query = xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'account', type: 'registered' }));
      if (!ctx.payload.attrs.node) await core.run('disco/account-info', { from: ctx.from, to: ctx.to, query });
      return query;
    },
  });
}
