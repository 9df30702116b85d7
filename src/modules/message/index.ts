// Message delivery rules (RFC 6121 §8.5): a bare JID reaches the available resources, a full JID
// its resource; a chat to a resource that is gone is delivered as if sent to the bare JID. What no
// resource takes passes on to the later delivery slots (other nodes, offline storage).
import type { ModuleApi, RouteContext } from '../../core/api.js';
import { StanzaError } from '../../xmpp/errors.js';

export function messageModule(core: ModuleApi): void {
  core.on('message/bare', 'local', ({ stanza, to, origin }: RouteContext) => {
    const type = stanza.attrs.type;
    if (type === 'groupchat') {
      core.bounce(stanza, new StanzaError('service-unavailable', 'groupchat messages go to rooms, not users'), origin);
      return true;
    }
    const targets = core.sessions.available(to.bare);
    if (targets.length === 0) return undefined;
    for (const target of targets) target.send(stanza);
    return true;
  });

  core.on('message/full', 'local', (ctx: RouteContext) => {
    const session = core.sessions.get(ctx.to.bare, ctx.to.resource);
    if (!session) return toGoneResource(ctx);
    session.send(ctx.stanza);
    return true;
  });

  const toGoneResource = async (ctx: RouteContext): Promise<true> => {
    const { stanza, to, origin } = ctx;
    const type = stanza.attrs.type ?? 'normal';
    if (type === 'chat' || type === 'normal') await core.deliver('message/bare', { ...ctx, to: to.toBare() });
    else if (type !== 'error') core.bounce(stanza, new StanzaError('recipient-unavailable', 'The recipient is no longer available.'), origin);
    return true;
  };
}
