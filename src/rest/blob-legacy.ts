// Old content calls some apps still make: `POST /blobs/{id}/getblobobjectbyid.json` (one old JS SDK
// sent a GET: both are answered) returns a read "object access" whose `params` is the download URL.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';
import { sessionOf, type RestDeps } from './context.js';
import { positiveId } from './params.js';
import { isoSeconds } from './time.js';

function baseUrl(req: FastifyRequest, deps: RestDeps): string {
  const configured = deps.config.public_api_url?.replace(/\/+$/, '');
  if (configured) return /^https?:\/\//.test(configured) ? configured : `https://${configured}`;
  return `${req.protocol}://${req.host}`;
}

export function blobLegacyRoutes(app: FastifyInstance, deps: RestDeps): void {
  const objectAccess = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const session = sessionOf(req);
    const blob = await deps.store.blobs.getBlob(session.appId, positiveId(req.params.id));
    if (!blob || blob.status !== 'complete') throw new ApiError('notFound');
    const url = `${baseUrl(req, deps)}/blobs/${blob.uid}`;
    return {
      blob_object_access: {
        id: blob.id,
        blob_id: blob.id,
        // The URL carries the session token, so it works as long as the session does.
        expires: isoSeconds(session.expiresAt),
        object_access_type: 'Read',
        params: blob.public || req.viaApiKey ? url : `${url}?token=${encodeURIComponent(session.token)}`,
      },
    };
  };
  app.post<{ Params: { id: string } }>('/blobs/:id/getblobobjectbyid.json', { config: { auth: 'session' } }, objectAccess);
  app.get<{ Params: { id: string } }>('/blobs/:id/getblobobjectbyid.json', { config: { auth: 'session' } }, objectAccess);
}
