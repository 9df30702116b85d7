// Short-lived TURN credentials for calls, in coturn's shared-secret scheme (the "TURN REST API",
// coturn `use-auth-secret` + `static-auth-secret`): username `<expiry unix time>:<user id>`,
// password base64(HMAC-SHA1(secret, username)). coturn checks the HMAC and the expiry itself, so
// Parley and coturn share nothing but the secret. GET /turn/credentials.json with any session.
import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../chat/errors.js';
import { sessionOf, type RestDeps } from './context.js';

export interface TurnCredentials {
  username: string;
  password: string;
  ttl: number;
  uris: string[];
  /** The same, as an RTCIceServer list for `QB.init(…, {webrtc: {iceServers}})`. */
  ice_servers: { urls: string[]; username: string; credential: string }[];
}

export function mintTurnCredentials(secret: string, who: string, ttl: number, uris: string[], nowMs = Date.now()): TurnCredentials {
  const username = `${Math.floor(nowMs / 1000) + ttl}:${who}`;
  const password = createHmac('sha1', secret).update(username).digest('base64');
  return { username, password, ttl, uris, ice_servers: [{ urls: uris, username, credential: password }] };
}

export function turnRoutes(app: FastifyInstance, deps: RestDeps): void {
  const uris = (deps.config.turn_uris ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  app.get('/turn/credentials.json', { config: { auth: 'session' } }, async (req) => {
    const secret = deps.config.turn_secret;
    if (!secret) throw new ApiError('notFound', 'TURN is not configured on this server');
    const session = sessionOf(req);
    const who = session.userId !== null ? String(session.userId) : `app${session.appId}`;
    return mintTurnCredentials(secret, who, deps.config.turn_ttl, uris, (deps.now ? deps.now() : new Date()).getTime());
  });
}
