// Message carbons (XEP-0280): enable/disable is accepted and remembered per session. Copying
// messages to the other resources comes with the QuickBlox chat work, in the shape its SDK survives.
import type { Core } from '../../core/core.js';
import type { C2sSession } from '../../core/session.js';
import { NS_CARBONS } from '../../xmpp/ns.js';

export const CARBONS = Symbol('carbons');

export function carbonsEnabled(session: C2sSession): boolean {
  return session.data.get(CARBONS) === true;
}

export function carbonsModule(core: Core): void {
  core.addDiscoFeature(NS_CARBONS);
  for (const name of ['enable', 'disable'] as const) {
    core.handleIq({
      scope: 'host',
      xmlns: NS_CARBONS,
      name,
      set: ({ session }) => {
        session?.data.set(CARBONS, name === 'enable');
        return null;
      },
    });
  }
}
