// Operator sign-in for the console: a random token in an HttpOnly, SameSite=Strict cookie (Secure
// on HTTPS), kept in the store as a digest and slid forward while used. Requests that change
// anything must come from the console's own origin and carry the CSRF token the console received
// at sign-in (an HMAC of the cookie's token, so it cannot be forged without the cookie).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Operator } from '../storage/admin-types.js';
import { AdminError, type AdminDeps } from './context.js';

export const SESSION_COOKIE = 'parley_console';
const COOKIE_PATH = '/admin';
const SLIDE_GRANULARITY_MS = 60_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const csrfFor = (token: string) => createHmac('sha256', token).update('parley console csrf').digest('base64url');

function cookieToken(req: FastifyRequest): string | null {
  const value = req.cookies[SESSION_COOKIE];
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
}

/** The host:port of an Origin header; null when it is not a URL ("null" from sandboxed pages). */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/**
 * Refuses a changing request that a browser says came from another site. Only the host is compared:
 * behind a proxy that terminates TLS the browser's https origin reaches us as plain http.
 */
export function checkSameOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  if (origin !== undefined && (req.headers.host === undefined || originHost(origin) !== req.headers.host)) throw new AdminError(403, 'cross-origin request refused');
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new AdminError(403, 'cross-site request refused');
}

export interface SignedIn {
  operator: Operator;
  csrf: string;
}

export async function signIn(deps: AdminDeps, req: FastifyRequest, reply: FastifyReply, operator: Operator): Promise<SignedIn> {
  const token = randomBytes(32).toString('base64url');
  const now = (deps.now ?? (() => new Date()))();
  await deps.store.operators.purgeOperatorSessions(now);
  await deps.store.operators.createOperatorSession({
    tokenHash: digest(token), operatorId: operator.id, expiresAt: new Date(now.getTime() + deps.config.admin_session_lifetime * 1000),
  });
  reply.setCookie(SESSION_COOKIE, token, { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https' });
  return { operator, csrf: csrfFor(token) };
}

export async function signOut(deps: AdminDeps, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const token = cookieToken(req);
  if (token) await deps.store.operators.deleteOperatorSession(digest(token));
  reply.clearCookie(SESSION_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https' });
}

/** The signed-in operator and the CSRF token of their session; null when not signed in. */
export async function currentOperator(deps: AdminDeps, req: FastifyRequest): Promise<SignedIn | null> {
  const token = cookieToken(req);
  if (!token) return null;
  const now = (deps.now ?? (() => new Date()))();
  const session = await deps.store.operators.getOperatorSession(digest(token));
  if (!session || session.expiresAt <= now) return null;
  const operator = await deps.store.operators.getOperator(session.operatorId);
  if (!operator) return null;
  const slid = new Date(now.getTime() + deps.config.admin_session_lifetime * 1000);
  if (slid.getTime() - session.expiresAt.getTime() >= SLIDE_GRANULARITY_MS) await deps.store.operators.extendOperatorSession(session.tokenHash, slid);
  return { operator, csrf: csrfFor(token) };
}

/** Every route registered on `app` after this needs a signed-in operator; changing ones also the CSRF token. */
export function requireOperator(app: FastifyInstance, deps: AdminDeps): void {
  app.addHook('preHandler', async (req) => {
    const signedIn = await currentOperator(deps, req);
    if (!signedIn) throw new AdminError(401, 'sign in first');
    if (!SAFE_METHODS.has(req.method)) {
      checkSameOrigin(req);
      const sent = req.headers['x-csrf-token'];
      const given = Buffer.from(typeof sent === 'string' ? sent : '');
      const expected = Buffer.from(signedIn.csrf);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AdminError(403, 'missing or wrong CSRF token');
    }
    req.operator = signedIn.operator;
  });
}

export function operatorOf(req: FastifyRequest): Operator {
  if (!req.operator) throw new AdminError(401, 'sign in first');
  return req.operator;
}
