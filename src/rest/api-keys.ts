// `Authorization: ApiKey <key>`: a server-side caller of one application. With `On-Behalf-Of:
// <userId>` the request runs as that user; without it, it has every right in the application on
// routes that allow it (others answer as for an application session). Keys are stored as SHA-256
// digests: they are long random strings, so a fast digest is enough and a lookup is one indexed read.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';
import type { ApiSession } from '../storage/types.js';
import type { RestDeps } from './context.js';

const KEY_PREFIX = 'pk_';
const MAX_HEADER = 256;

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** A new key (shown once) and the digest to store. */
export function newApiKey(): { key: string; hash: string } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key) };
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The key of an `Authorization: ApiKey …` header; undefined when the request does not use one. */
export function apiKeyOf(req: FastifyRequest): string | undefined {
  const auth = header(req, 'authorization');
  if (!auth || !/^apikey\s/i.test(auth)) return undefined;
  if (auth.length > MAX_HEADER) throw new ApiError('unauthorized');
  return auth.slice(6).trim();
}

export const onBehalfOf = (req: FastifyRequest): string | undefined => header(req, 'on-behalf-of');

/**
 * The session an API key request runs with (never stored): the key's application, and the
 * On-Behalf-Of user when given. 401 for an unknown or revoked key, or an unknown user.
 */
export async function apiKeySession(deps: RestDeps, key: string, onBehalf: string | undefined): Promise<ApiSession> {
  const found = key ? await deps.store.apiKeys.findLiveKey(hashApiKey(key)) : null;
  if (!found) throw new ApiError('unauthorized');
  let userId: number | null = null;
  if (onBehalf !== undefined && onBehalf.trim() !== '') {
    const text = onBehalf.trim();
    const user = /^[1-9][0-9]{0,15}$/.test(text) ? await deps.store.accounts.getUser(found.appId, Number(text)) : null;
    if (!user) throw new ApiError('unauthorized', 'The On-Behalf-Of user does not exist');
    userId = user.id;
  }
  const now = (deps.now ?? (() => new Date()))();
  return { id: 0, token: '', appId: found.appId, userId, nonce: 0, ts: 0, createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 3600_000), scram: null };
}
