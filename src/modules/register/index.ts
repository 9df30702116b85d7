// In-band registration (XEP-0077), off unless `registration_app_id` names an application:
// - before authentication, `jabber:iq:register` get returns the fields (username, password) and a
//   set creates a user of that application with username as its QuickBlox login. Parley assigns
//   the JID (`<userId>-<appId>`, the QuickBlox model), so the result carries the username to log in
//   with in `<username/>`;
// - an authenticated user may change their password (§3.3); cancelling an account (§3.2) is left to
//   REST, where QuickBlox apps delete users. The change goes through the account service as REST's
//   does: every REST token of the user ends (tokens are XMPP passwords too) and every other stream of
//   the user, on every node, ends with <reset/>. The stream that asked gets its result and stays: it
//   proved the account by signing in, as the REST session that changes a password keeps its token
//   (XEP-0077 closes the stream only on cancellation, §3.2).
// A connection may register at most one account, and each address REGISTRATIONS_PER_HOUR an hour.
import type { ModuleApi as Core } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { AccountService } from '../../accounts/service.js';
import { DuplicateUserError, type AccountStore } from '../../storage/types.js';
import { Element, xml } from '../../xml/element.js';
import { StanzaError, errorReply } from '../../xmpp/errors.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { userLocal } from '../../xmpp/jid.js';

export const NS_REGISTER = 'jabber:iq:register';
const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';
const REGISTRATIONS_PER_HOUR = 5;
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;
const LOGIN = /^[^\s\x00-\x1f\x7f]{3,64}$/;
const REGISTERED = Symbol('registered');

export function registerModule(core: Core, accounts: AccountStore, changes: Pick<AccountService, 'changePassword'>, appId: number): void {
  /** Registrations per remote address in the current hour. */
  const recent = new Map<string, { count: number; since: number }>();

  const fields = (): Element => xml('query', { xmlns: NS_REGISTER },
    xml('instructions', null, 'Choose a login and a password (at least 8 characters). You sign in with the username this server returns.'),
    xml('username'), xml('password'));

  function readCredentials(query: Element): { login: string; password: string } {
    const login = query.getChildText('username')?.trim() ?? '';
    const password = query.getChildText('password') ?? '';
    if (!LOGIN.test(login)) throw new StanzaError('not-acceptable', 'The username must be 3 to 64 characters without spaces.');
    if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) throw new StanzaError('not-acceptable', `The password must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`);
    return { login, password };
  }

  function allowAddress(address: string): boolean {
    const now = Date.now();
    const entry = recent.get(address);
    if (!entry || now - entry.since > 3600_000) {
      if (recent.size > 10_000) recent.clear();
      recent.set(address, { count: 1, since: now });
      return true;
    }
    if (entry.count >= REGISTRATIONS_PER_HOUR) return false;
    entry.count++;
    return true;
  }

  async function register(session: C2sSession, iq: Element, query: Element): Promise<Element> {
    if (iq.attrs.type === 'get') return fields();
    if (query.getChild('remove')) throw new StanzaError('not-allowed', 'There is no account to remove on an unauthenticated stream.');
    if (session.data.get(REGISTERED)) throw new StanzaError('not-allowed', 'This connection already registered an account.');
    const { login, password } = readCredentials(query);
    if (!(await accounts.getApplication(appId))) throw new StanzaError('service-unavailable', 'Registration is not set up on this server.');
    if (!allowAddress(session.connection.remoteAddress)) throw new StanzaError('resource-constraint', 'Too many registrations from your address; try later.', 'wait');
    try {
      const user = await accounts.createUser(appId, { login, password });
      session.data.set(REGISTERED, true);
      return xml('query', { xmlns: NS_REGISTER }, xml('registered'), xml('username', null, userLocal({ userId: user.id, appId })));
    } catch (err) {
      if (err instanceof DuplicateUserError) throw new StanzaError('conflict', 'That username is taken.');
      throw err;
    }
  }

  core.addStreamFeature('negotiating', () => xml('register', { xmlns: NS_REGISTER_FEATURE }), 60);

  // Before authentication the core takes no stanzas: registration reads them off the stream here.
  // Every element of every session passes here: declining is synchronous (no promise per stanza).
  core.on('c2s/element', 'register', ({ session, element }) => {
    if (session.authenticated || element.name !== 'iq' || element.attrs.xmlns !== NS_CLIENT) return undefined;
    const query = element.getChild('query', NS_REGISTER);
    if (!query || element.getChildren().length !== 1 || (element.attrs.type !== 'get' && element.attrs.type !== 'set')) return undefined;
    return answer(session, element, query);
  });

  const answer = async (session: C2sSession, element: Element, query: Element): Promise<true> => {
    const reply = (el: Element): void => {
      delete el.attrs.to;
      session.send(el);
    };
    try {
      reply(xml('iq', { type: 'result', id: element.attrs.id ?? '' }, await register(session, element, query)));
    } catch (err) {
      const error = err instanceof StanzaError ? err : new StanzaError('internal-server-error');
      if (!(err instanceof StanzaError)) core.log.error({ err }, 'in-band registration failed');
      reply(errorReply(element, error));
    }
    return true;
  };

  // Registered users: the fields (with <registered/>) and a password change.
  core.handleIq({
    scope: 'account',
    xmlns: NS_REGISTER,
    name: 'query',
    get: ({ from, to, session }) => {
      if (from.bare !== to.bare || !session?.user) throw new StanzaError('forbidden');
      return xml('query', { xmlns: NS_REGISTER }, xml('registered'), xml('username', null, userLocal(session.user)), xml('password'));
    },
    set: async ({ payload, from, to, session }) => {
      if (from.bare !== to.bare || !session?.user) throw new StanzaError('forbidden');
      if (payload.getChild('remove')) throw new StanzaError('not-allowed', 'Accounts are deleted over the REST API.');
      const password = payload.getChildText('password') ?? '';
      if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) throw new StanzaError('not-acceptable', `The password must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`);
      await changes.changePassword(session.user.appId, session.user.userId, password, { stream: session.id });
      return null;
    },
  });
}
