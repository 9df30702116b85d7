// Message delivery rules (RFC 6121 §8.5): a bare JID reaches the available resources, a full JID
// its resource; a chat to a resource that is gone falls back to the bare JID. What no resource
// takes is left to the next handler (offline storage).
import type { Core, RouteContext } from '../../core/core.js';
import { StanzaError } from '../../xmpp/errors.js';

export function messageModule(core: Core): void {
  core.hooks.on('message/bare', ({ stanza, to, origin }: RouteContext) => {
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

  core.hooks.on('message/full', (ctx: RouteContext) => {
    const session = core.sessions.get(ctx.to.bare, ctx.to.resource);
    if (!session) return toGoneResource(ctx);
    session.send(ctx.stanza);
    return true;
  });

  const toGoneResource = async (ctx: RouteContext): Promise<true> => {
    const { stanza, to, origin } = ctx;
    const type = stanza.attrs.type ?? 'normal';
    if (type === 'chat' || type === 'normal') {
      const handled = await core.hooks.run('message/bare', { ...ctx, to: to.toBare() });
      if (handled === undefined) core.bounce(stanza, new StanzaError('service-unavailable'), origin);
      return true;
    }
    if (type !== 'error') core.bounce(stanza, new StanzaError('recipient-unavailable', 'The recipient is no longer available.'), origin);
    return true;
  };
}
