// The HTTP side of XEP-0363 on the REST listeners: `PUT /upload/<uid>/<name>?key=…` stores the
// body (exactly the announced size, at most blob_max_size) in the blob store and completes the
// blob; `GET|HEAD /upload/<uid>/<name>` serves it to anyone holding the link (the uid is random).
// Only blobs created as upload slots are reachable here.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';
import { BlobFiles, BlobTooLargeError } from '../storage/blob-files.js';
import type { RestDeps } from './context.js';
import { sendBlobFile } from './blob-download.js';
import { hashKey, slotSize, UPLOAD_PATH } from '../chat/upload-slots.js';

const UID = /^[0-9a-f]{32}$/;

interface SlotParams {
  uid: string;
  name: string;
}

export async function httpUploadRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const files = new BlobFiles(join(deps.config.data_dir, 'blobs'));
  const blobs = deps.store.blobs;
  const now = () => (deps.now ? deps.now() : new Date());

  await app.register(async (scope) => {
    // The body is the file: handed to the route as a stream, whatever its type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    scope.put<{ Params: SlotParams; Querystring: { key?: string } }>(`${UPLOAD_PATH}/:uid/:name`, { config: { auth: 'none' } }, async (req, reply) => {
      const key = typeof req.query.key === 'string' ? req.query.key : '';
      const blob = key && UID.test(req.params.uid) ? await blobs.blobForUpload(hashKey(key), now()) : null;
      if (!blob || blob.uid !== req.params.uid) throw new ApiError('forbidden', 'The upload slot is unknown or has expired');
      const size = slotSize(blob);
      if (size === null) throw new ApiError('forbidden', 'Not an upload slot');
      const length = Number(req.headers['content-length']);
      if (req.headers['content-length'] !== undefined && length !== size) throw new ApiError('badRequest', `The slot is for exactly ${size} bytes`);
      let written: number;
      try {
        written = await files.put(blob.uid, (req.body as Readable | undefined) ?? req.raw, Math.min(size, deps.config.blob_max_size));
      } catch (err) {
        if (err instanceof BlobTooLargeError) throw new ApiError('tooLarge', `The slot is for ${size} bytes`);
        throw err;
      }
      if (written !== size) {
        await files.remove(blob.uid);
        throw new ApiError('badRequest', `The slot is for exactly ${size} bytes, got ${written}`);
      }
      await blobs.completeBlob(blob.appId, blob.id, written, now());
      return reply.code(201).send();
    });
  });

  const download = async (req: FastifyRequest<{ Params: SlotParams }>, reply: FastifyReply) => {
    const blob = UID.test(req.params.uid) ? await blobs.getBlobByUid(req.params.uid) : null;
    if (!blob || blob.status !== 'complete' || slotSize(blob) === null) throw new ApiError('notFound');
    const file = await files.get(blob.uid);
    if (!file) throw new ApiError('notFound');
    return sendBlobFile(req, reply, blob, file);
  };
  app.get<{ Params: SlotParams }>(`${UPLOAD_PATH}/:uid/:name`, { config: { auth: 'none' } }, download);
}
