// Last activity (XEP-0012, jabber:iq:last): to a user's bare JID, the seconds since that user's
// last logout (0 while a session is online); to the server, its uptime. Unknown users never reach
// the handler (the core answers service-unavailable). Presence also records the user's REST
// `last_request_at` (QuickBlox's LastRequestAt plugin), and so does a session's end.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { xml } from '../../xml/element.js';
import { parseUserLocal } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import type { AccountStore } from '../../storage/types.js';

export const NS_LAST = 'jabber:iq:last';

export function lastActivityModule(core: ModuleApi, accounts: AccountStore, now: () => number = Date.now): void {
  const started = now();
  /** When each user's last session ended, while this process runs (more exact than last_request_at). */
  const loggedOut = new Map<number, number>();
  const seconds = (ms: number): string => String(Math.max(0, Math.floor(ms / 1000)));

  core.addDiscoFeature(NS_LAST);

  core.handleIq({
    scope: 'host',
    xmlns: NS_LAST,
    name: 'query',
    get: () => xml('query', { xmlns: NS_LAST, seconds: seconds(now() - started) }),
  });

  core.handleIq({
    scope: 'account',
    xmlns: NS_LAST,
    name: 'query',
    get: async ({ to }) => {
      const user = parseUserLocal(to.local);
      if (!user) throw new StanzaError('item-not-found');
      if (core.sessions.isOnline(to.bare)) return xml('query', { xmlns: NS_LAST, seconds: '0' });
      const at = loggedOut.get(user.userId);
      if (at !== undefined) return xml('query', { xmlns: NS_LAST, seconds: seconds(now() - at) });
      const stored = await accounts.getUser(user.appId, user.userId);
      if (!stored) throw new StanzaError('item-not-found', 'no such user');
      return xml('query', { xmlns: NS_LAST, seconds: seconds(now() - (stored.lastRequestAt ?? stored.createdAt).getTime()) });
    },
  });

  const touch = (session: C2sSession): void => {
    const user = session.user;
    if (!user) return;
    accounts.touchUser(user.appId, user.userId, new Date(now())).catch((err: unknown) => core.log.warn({ err }, 'recording last_request_at failed'));
  };

  core.on('presence/broadcast', 'last-activity', ({ origin }: RouteContext) => {
    if (origin) touch(origin);
    return undefined;
  });

  core.on('session/closed', 'last-activity', ({ session }: { session: C2sSession }) => {
    const jid = session.jid;
    if (!jid || !session.user) return undefined;
    if (!core.sessions.isOnline(jid.bare)) loggedOut.set(session.user.userId, now());
    touch(session);
    return undefined;
  });
}
