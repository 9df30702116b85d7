// The upload step of a blob, standing where QuickBlox has an S3 bucket: `POST /blobs/upload`,
// multipart, the fields of the upload URL's query (the SDK turns each pair into a field) before
// the `file` part. The `key` field authenticates the upload: a random key issued with the blob,
// valid for UPLOAD_KEY_LIFETIME_MS and until the blob is completed; only its digest is stored.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { ApiError } from '../chat/errors.js';
import { BlobTooLargeError, type BlobFiles } from '../storage/blob-files.js';
import type { Blob } from '../storage/types.js';
import type { RestDeps } from './context.js';

export const UPLOAD_PATH = '/blobs/upload';
export const UPLOAD_KEY_LIFETIME_MS = 3600_000;

/** A fresh upload key and the digest the store keeps. */
export function newUploadKey(): { key: string; hash: string } {
  const key = randomBytes(24).toString('base64url');
  return { key, hash: hashUploadKey(key) };
}

export const hashUploadKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * Busboy reports a broken body (no boundary, cut short) as a plain Error: that is the client's
 * fault (400). Our own errors, the multipart plugin's (they carry a status) and the system's
 * (disk full) pass through.
 */
function asClientError(err: unknown): never {
  if (err instanceof ApiError || !(err instanceof Error) || 'statusCode' in err || 'syscall' in err) throw err;
  throw new ApiError('badRequest', 'The multipart body is malformed');
}

/** The absolute URL the client uploads to, with the key in its query. */
export function uploadUrl(req: FastifyRequest, deps: RestDeps, key: string): string {
  const configured = deps.config.public_api_url?.replace(/\/+$/, '');
  const base = configured ? (/^https?:\/\//.test(configured) ? configured : `https://${configured}`) : `${req.protocol}://${req.host}`;
  return `${base}${UPLOAD_PATH}?key=${encodeURIComponent(key)}`;
}

export async function blobUploadRoute(app: FastifyInstance, deps: RestDeps, files: BlobFiles): Promise<void> {
  const maxBytes = deps.config.blob_max_size;
  const now = () => (deps.now ? deps.now() : new Date());

  const blobForKey = async (key: string | undefined): Promise<Blob> => {
    if (!key) throw new ApiError('invalidField', "can't be blank", 'key');
    const blob = await deps.store.blobs.blobForUpload(hashUploadKey(key), now());
    if (!blob) throw new ApiError('forbidden', 'The upload key is invalid or has expired');
    return blob;
  };

  /** Reads the fields up to the file, checks the key, streams the file to disk; the blob it was for. */
  const receive = async (req: FastifyRequest): Promise<Blob | null> => {
    const fields: Record<string, string> = {};
    let uploaded: Blob | null = null;
    for await (const part of req.parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (part.fieldname !== 'file') throw new ApiError('invalidField', 'unexpected file part', part.fieldname);
      // The key must come before the file: nothing is written for an unauthenticated upload.
      const blob = await blobForKey(fields.key);
      try {
        await files.put(blob.uid, part.file, maxBytes);
      } catch (err) {
        if (err instanceof BlobTooLargeError) throw new ApiError('tooLarge', `File is too large (maximum is ${maxBytes} bytes)`);
        throw err;
      }
      uploaded = blob;
    }
    return uploaded;
  };

  // Multipart parsing exists only in this scope: everywhere else the app's own body parsers apply.
  await app.register(async (scope) => {
    await scope.register(multipart, {
      // One byte over our own limit, so that BlobFiles (not busboy's truncation) reports the size.
      limits: { fileSize: maxBytes + 1, files: 1, fields: 30, fieldSize: 8192, parts: 40, headerPairs: 100 },
    });

    scope.post(UPLOAD_PATH, { config: { auth: 'none' } }, async (req, reply) => {
      if (!req.isMultipart()) throw new ApiError('badRequest', 'The upload must be multipart/form-data');
      const uploaded = await receive(req).catch(asClientError);
      if (!uploaded) throw new ApiError('invalidField', "can't be blank", 'file');
      // Deleted while its bytes were arriving: drop them.
      if (!(await deps.store.blobs.getBlob(uploaded.appId, uploaded.id))) {
        await files.remove(uploaded.uid);
        throw new ApiError('notFound');
      }
      return reply.code(201).send({ blob: { id: uploaded.id, uid: uploaded.uid } });
    });
  });
}
