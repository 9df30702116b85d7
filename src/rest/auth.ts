// QB-Token authentication: every route says who may call it (config.auth, `user` by default).
// Tokens live `session_lifetime` seconds after the last request (sliding); the expiry is written
// back at most once a minute so that reads stay reads.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';
import type { ApiSession } from '../storage/types.js';
import type { RestDeps, RouteAuth } from './context.js';
import { apiKeyOf, apiKeySession, onBehalfOf } from './api-keys.js';
import { tokenExpiryHeader } from './time.js';

const SLIDE_GRANULARITY_MS = 60_000;

export function tokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers['qb-token'];
  const token = Array.isArray(header) ? header[0] : header;
  if (token) return token.trim();
  const query = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof query === 'string' && query ? query : undefined;
}

export const sessionExpiry = (deps: RestDeps, from: Date): Date => new Date(from.getTime() + deps.config.session_lifetime * 1000);

/** The live session behind a token, with its lifetime slid forward; null when unknown or expired. */
export async function liveSession(deps: RestDeps, token: string): Promise<ApiSession | null> {
  const now = (deps.now ?? (() => new Date()))();
  const session = await deps.store.sessions.getSession(token);
  if (!session || session.expiresAt <= now) return null;
  const slid = sessionExpiry(deps, now);
  if (slid.getTime() - session.expiresAt.getTime() >= SLIDE_GRANULARITY_MS) {
    await deps.store.sessions.extendSession(token, slid);
    session.expiresAt = slid;
    if (session.userId !== null) await deps.store.accounts.touchUser(session.appId, session.userId, now);
  }
  return session;
}

export function registerAuth(app: FastifyInstance, deps: RestDeps): void {
  app.decorateRequest('qbSession', null);
  app.decorateRequest('viaApiKey', false);

  app.addHook('preHandler', async (req) => {
    const auth: RouteAuth = req.routeOptions.config?.auth ?? 'user';
    if (auth === 'none' || req.is404) return;
    const apiKey = apiKeyOf(req);
    let session: ApiSession | null;
    if (apiKey !== undefined) {
      session = await apiKeySession(deps, apiKey, onBehalfOf(req));
      req.viaApiKey = true;
      if (session.userId === null && req.routeOptions.config?.apiKey === 'unrestricted') {
        req.qbSession = session;
        return;
      }
    } else {
      const token = tokenOf(req);
      session = token ? await liveSession(deps, token) : null;
    }
    if (!session) throw new ApiError('noSession');
    req.qbSession = session;
    if (auth === 'user' && session.userId === null) throw new ApiError('needUser');
  });

  app.addHook('onSend', async (req, reply) => {
    if (req.qbSession && !req.viaApiKey) reply.header('QB-Token-ExpirationDate', tokenExpiryHeader(req.qbSession.expiresAt));
  });
}
