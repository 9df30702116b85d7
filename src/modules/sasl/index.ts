// SASL (RFC 6120 §6): PLAIN and SCRAM-SHA-1/-256. The secrets come from an Authenticator, so
// other parts (REST session tokens) can widen what is accepted without touching this module.
// Whatever PLAIN accepts SCRAM accepts too: the Authenticator hands SCRAM one credential per secret.
import type { ModuleApi } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_SASL } from '../../xmpp/ns.js';
import { parseUserLocal, type UserAddress } from '../../xmpp/jid.js';
import type { ScramCredential, ScramHash } from '../../storage/types.js';
import { ScramError, ScramServer } from '../../util/scram.js';
import { StreamError } from '../../xmpp/errors.js';
import { SaslAttempts, plainUsername, scramUsername } from './attempts.js';
import { metrics } from '../../metrics/index.js';

export interface Authenticator {
  verifyPlain(user: UserAddress, password: string): Promise<boolean>;
  /** Every credential a SCRAM proof may match, the stored password's first; null for an unknown user. */
  scramCredentials(user: UserAddress, hash: ScramHash): Promise<ScramCredential[] | null>;
}

type SaslCondition = 'aborted' | 'incorrect-encoding' | 'invalid-authzid' | 'invalid-mechanism' | 'malformed-request' | 'not-authorized' | 'temporary-auth-failure' | 'encryption-required';

const MECHANISMS: Record<string, ScramHash | 'plain'> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-1': 'sha1', PLAIN: 'plain' };
const STATE = Symbol('sasl');
const MAX_FAILURES_PER_STREAM = 5;
/** Every <auth> counts, whatever its outcome: a stream gets this many, then it is closed. */
const MAX_ATTEMPTS_PER_STREAM = 10;

interface SaslState {
  scram?: ScramServer;
  failures: number;
  attempts: number;
  /** The account the attempt in progress names (for charging its failure, abort or restart). */
  account?: string;
}

export function saslModule(core: ModuleApi, auth: Authenticator): void {
  const attempts = new SaslAttempts(core.config);

  core.addStreamFeature('negotiating', (session) => {
    if (session.authenticated) return null;
    if (core.config.require_starttls && !session.connection.secure && session.connection.canStartTls) return null;
    return xml('mechanisms', { xmlns: NS_SASL }, ...Object.keys(MECHANISMS).map((m) => xml('mechanism', null, m)));
  }, 10);

  const state = (session: C2sSession): SaslState => {
    let s = session.data.get(STATE) as SaslState | undefined;
    if (!s) session.data.set(STATE, (s = { failures: 0, attempts: 0 }));
    return s;
  };

  /** The attempt in progress failed (wrong secret, abort, or abandoned for a new one). */
  const charge = (session: C2sSession, s: SaslState): void => {
    if (s.account !== undefined) attempts.failed(s.account, session.connection.remoteAddress);
    s.account = undefined;
    s.scram = undefined;
    s.failures++;
  };

  const fail = (session: C2sSession, condition: SaslCondition, text?: string): void => {
    const s = state(session);
    s.scram = undefined;
    if (condition === 'not-authorized' || condition === 'aborted') charge(session, s);
    if (condition === 'not-authorized') {
      metrics.authFailures.inc({ via: 'xmpp' });
      core.log.info({ session: session.id, remote: session.connection.remoteAddress }, 'authentication failed');
    } else if (condition === 'temporary-auth-failure') {
      metrics.authThrottled.inc({ via: 'xmpp' });
      core.log.warn({ session: session.id, remote: session.connection.remoteAddress }, 'authentication throttled: too many attempts');
    }
    s.account = undefined;
    session.send(xml('failure', { xmlns: NS_SASL }, xml(condition), text ? xml('text', { 'xml:lang': 'en' }, text) : null));
    if (s.failures >= MAX_FAILURES_PER_STREAM) session.close();
  };

  const succeed = (session: C2sSession, user: UserAddress, additional?: Buffer): void => {
    const s = state(session);
    s.scram = undefined;
    s.account = undefined;
    session.send(xml('success', { xmlns: NS_SASL }, additional ? additional.toString('base64') : null));
    session.authenticate(user);
    core.log.debug({ session: session.id, user }, 'authenticated');
  };

  /** The account an identity names, spelled one way (`userId-appId`), for the limiter's key. */
  const accountOf = (authcid: string): string => {
    const user = userFrom(authcid);
    return user ? `${user.userId}-${user.appId}` : authcid.slice(0, 256);
  };

  const userFrom = (authcid: string): UserAddress | null => {
    const at = authcid.indexOf('@');
    if (at >= 0 && authcid.slice(at + 1).toLowerCase() !== core.domain) return null;
    return parseUserLocal(at >= 0 ? authcid.slice(0, at) : authcid);
  };

  core.handleNonza(NS_SASL, 'auth', async (session, el) => {
    if (session.authenticated) return session.close();
    if (core.config.require_starttls && !session.connection.secure && session.connection.canStartTls) {
      return fail(session, 'encryption-required', 'use STARTTLS first');
    }
    const s = state(session);
    // A new <auth> while one is in progress abandons it: that counts as a failure of the first.
    if (s.scram) charge(session, s);
    if (s.failures >= MAX_FAILURES_PER_STREAM) return session.close();
    if (++s.attempts > MAX_ATTEMPTS_PER_STREAM) return session.close(new StreamError('policy-violation', 'too many authentication attempts on one stream'));
    const mechanism = MECHANISMS[el.attrs.mechanism ?? ''];
    if (!mechanism) return fail(session, 'invalid-mechanism');
    const initial = decode(el);
    if (initial === null) return fail(session, 'incorrect-encoding');
    const account = accountOf(mechanism === 'plain' ? plainUsername(initial) : scramUsername(initial));
    if (!attempts.begin(account, session.connection.remoteAddress)) {
      return fail(session, 'temporary-auth-failure', 'too many attempts; try again later');
    }
    s.account = account;
    if (mechanism === 'plain') return plain(session, initial);
    const scram = new ScramServer(mechanism, async (username) => {
      const user = userFrom(username);
      return user ? auth.scramCredentials(user, mechanism) : null;
    });
    state(session).scram = scram;
    try {
      const serverFirst = await scram.start(initial);
      session.send(xml('challenge', { xmlns: NS_SASL }, serverFirst.toString('base64')));
    } catch (err) {
      scramFailed(session, err);
    }
  });

  core.handleNonza(NS_SASL, 'response', async (session, el) => {
    const scram = state(session).scram;
    if (!scram) return fail(session, 'malformed-request', 'no authentication in progress');
    const data = decode(el);
    if (data === null) return fail(session, 'incorrect-encoding');
    try {
      const result = await scram.finish(data);
      const user = userFrom(result.username)!;
      if (result.authzid && !sameAccount(result.authzid, result.username)) return fail(session, 'invalid-authzid');
      succeed(session, user, result.serverFinal);
    } catch (err) {
      scramFailed(session, err);
    }
  });

  core.handleNonza(NS_SASL, 'abort', (session) => fail(session, 'aborted'));

  async function plain(session: C2sSession, message: Buffer): Promise<void> {
    const parts = message.toString('utf8').split('\0');
    if (parts.length !== 3) return fail(session, 'malformed-request', 'PLAIN expects authzid NUL authcid NUL password');
    const [authzid, authcid, password] = parts as [string, string, string];
    const user = userFrom(authcid);
    if (!user || !password) return fail(session, 'not-authorized', 'Password not verified');
    if (authzid && !sameAccount(authzid, authcid)) return fail(session, 'invalid-authzid');
    if (!(await auth.verifyPlain(user, password))) return fail(session, 'not-authorized', 'Password not verified');
    succeed(session, user);
  }

  function scramFailed(session: C2sSession, err: unknown): void {
    if (err instanceof ScramError) {
      const text = err.condition === 'not-authorized' ? 'Password not verified' : err.message;
      return fail(session, err.condition, text);
    }
    throw err;
  }

  /** An authzid may name the same account, as a local part or a bare JID. */
  function sameAccount(authzid: string, authcid: string): boolean {
    const a = userFrom(authzid);
    const b = userFrom(authcid);
    return a !== null && b !== null && a.userId === b.userId && a.appId === b.appId;
  }
}

function decode(el: Element): Buffer | null {
  const text = el.text().trim();
  if (text === '' || text === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  return Buffer.from(text, 'base64');
}
