// Sessions: POST /session.json (signed), GET/DELETE /session.json, POST/DELETE /login.json, and
// GET /account_settings.json for endpoint discovery.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../chat/errors.js';
import { signInWithProvider } from '../identity/provider.js';
import type { ApiSession, User } from '../storage/types.js';
import { sessionExpiry } from './auth.js';
import { sessionOf, type RestDeps } from './context.js';
import { objectParam, requestParams, stringParam, type Params } from './params.js';
import { signatureMatches } from './signature.js';
import { isoSeconds, unixSeconds } from './time.js';
import { userView } from './user-view.js';
import { tokenScram } from '../storage/account-secrets.js';

/** How far a signed request's timestamp may be from the server's clock, either way. */
export const TIMESTAMP_WINDOW_SECONDS = 3600;
const PURGE_EVERY_MS = 10 * 60_000;

const sessionView = (s: ApiSession) => ({
  _id: String(s.id),
  id: s.id,
  application_id: s.appId,
  user_id: s.userId ?? 0,
  token: s.token,
  nonce: s.nonce,
  ts: s.ts,
  created_at: isoSeconds(s.createdAt),
  updated_at: isoSeconds(s.updatedAt),
});

const required = (params: Params, key: string): string => {
  const value = stringParam(params, key)?.trim();
  if (!value) throw new ApiError('invalidField', "can't be blank", key);
  return value;
};

/** Finds the user named by `login` or `email` and checks the password; 401 otherwise. */
async function signIn(deps: RestDeps, appId: number, credentials: Params): Promise<User> {
  const login = stringParam(credentials, 'login');
  const email = stringParam(credentials, 'email');
  const password = stringParam(credentials, 'password');
  if ((!login && !email) || !password) throw new ApiError('unauthorized');
  const external = await signInWithProvider(deps.store, appId, { login, email, password });
  if (external) return external;
  const user = login
    ? await deps.store.accounts.getUserByLogin(appId, login)
    : await deps.store.accounts.getUserBy(appId, 'email', email!);
  if (!user || !(await deps.store.accounts.verifyPassword(appId, user.id, password))) throw new ApiError('unauthorized');
  if (stringParam(credentials, 'provider')) throw new ApiError('invalidField', 'is not supported', 'provider');
  return user;
}

export function sessionRoutes(app: FastifyInstance, deps: RestDeps): void {
  const now = () => (deps.now ? deps.now() : new Date());

  const purge = setInterval(() => {
    const at = now();
    deps.store.sessions.purge(at, unixSeconds(at) - 2 * TIMESTAMP_WINDOW_SECONDS).catch((err) => deps.log.warn({ err }, 'session purge failed'));
  }, PURGE_EVERY_MS);
  purge.unref();
  app.addHook('onClose', async () => clearInterval(purge));

  app.post('/session.json', { config: { auth: 'none' } }, async (req, reply) => {
    const params = requestParams(req);
    const appId = Number(required(params, 'application_id'));
    const authKey = required(params, 'auth_key');
    const timestamp = Number(required(params, 'timestamp'));
    const nonce = required(params, 'nonce');
    required(params, 'signature');
    const application = Number.isSafeInteger(appId) ? await deps.store.accounts.getApplication(appId) : null;
    if (!application || application.authKey !== authKey || !signatureMatches(params, application.authSecret)) {
      throw new ApiError('badSignature');
    }
    const at = now();
    if (!Number.isFinite(timestamp) || Math.abs(timestamp - unixSeconds(at)) > TIMESTAMP_WINDOW_SECONDS) throw new ApiError('badTimestamp');
    const credentials = objectParam(params, 'user');
    const user = Object.keys(credentials).length > 0 ? await signIn(deps, application.id, credentials) : null;
    // Claimed last, so a request refused above can be corrected and sent again with the same nonce.
    if (!(await deps.store.sessions.claimNonce(application.id, Math.floor(timestamp), nonce))) throw new ApiError('replayedNonce');
    const token = randomBytes(20).toString('hex');
    const session = await deps.store.sessions.createSession({
      token,
      appId: application.id,
      userId: user?.id ?? null,
      scram: user ? await tokenScram(deps.store, application.id, user.id, token) : null,
      nonce: Number.isSafeInteger(Number(nonce)) ? Number(nonce) : 0,
      ts: Math.floor(timestamp),
      expiresAt: sessionExpiry(deps, at),
    });
    if (user) await deps.store.accounts.touchUser(application.id, user.id, at);
    req.qbSession = session;
    return reply.code(201).send({ session: sessionView(session) });
  });

  app.get('/session.json', { config: { auth: 'session' } }, async (req) => ({ session: sessionView(sessionOf(req)) }));

  app.delete('/session.json', { config: { auth: 'session' } }, async (req, reply) => {
    await deps.store.sessions.deleteSession(sessionOf(req).token);
    req.qbSession = null;
    return reply.code(200).send();
  });

  app.post('/login.json', { config: { auth: 'session' } }, async (req, reply) => {
    const session = sessionOf(req);
    const user = await signIn(deps, session.appId, requestParams(req));
    const expiresAt = sessionExpiry(deps, now());
    await deps.store.sessions.setSessionUser(session.token, user.id, expiresAt, await tokenScram(deps.store, session.appId, user.id, session.token));
    await deps.store.accounts.touchUser(session.appId, user.id, now());
    session.userId = user.id;
    session.expiresAt = expiresAt;
    return reply.code(202).send({ user: userView((await deps.store.accounts.getUser(session.appId, user.id)) ?? user) });
  });

  app.delete('/login.json', { config: { auth: 'user' } }, async (req, reply) => {
    const session = sessionOf(req);
    await deps.store.sessions.setSessionUser(session.token, null, session.expiresAt);
    return reply.code(200).send();
  });

  app.get('/account_settings.json', { config: { auth: 'none' } }, async (req) => ({
    api_endpoint: deps.config.public_api_url ?? `${req.protocol}://${req.host}`,
    chat_endpoint: deps.config.domain,
    turnserver_endpoint: deps.config.domain,
  }));
}

