// Content (blobs): create → upload (blob-upload.ts) → complete, info by id or uid, rename, list
// of one's own files, delete, and downloads at /blobs/<uid>. A blob belongs to its application:
// from another application it does not exist (404). Reads need any session of the application;
// changes need the owner's user session.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';
import { BlobFiles } from '../storage/blob-files.js';
import type { Blob } from '../storage/types.js';
import { liveSession, tokenOf } from './auth.js';
import { callerOf, sessionOf, type RestDeps } from './context.js';
import { sendBlobFile } from './blob-download.js';
import { blobUploadRoute, newUploadKey, UPLOAD_KEY_LIFETIME_MS, uploadUrl } from './blob-upload.js';
import { blobView } from './blob-view.js';
import { blobLegacyRoutes } from './blob-legacy.js';
import { intParam, objectParam, positiveId, requestParams, stringParam, type Params } from './params.js';
import { isoSeconds } from './time.js';

const MAX_NAME = 255;
const MAX_PER_PAGE = 100;
const UID = /^[0-9a-f]{32}$/;
/** type/subtype with optional parameters, printable ASCII only (it becomes a response header). */
const MIME_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;[\x20-\x7e]*)?$/;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

function nameFrom(input: Params): string {
  const name = stringParam(input, 'name')?.trim();
  if (!name) throw new ApiError('invalidField', "can't be blank", 'name');
  if (name.length > MAX_NAME) throw new ApiError('invalidField', `is too long (maximum is ${MAX_NAME} characters)`, 'name');
  if (/[\x00-\x1f\x7f]/.test(name)) throw new ApiError('invalidField', 'is invalid', 'name');
  return name;
}

function contentTypeFrom(input: Params): string {
  const type = stringParam(input, 'content_type')?.trim();
  if (!type) return DEFAULT_CONTENT_TYPE;
  if (type.length > 255 || !MIME_TYPE.test(type)) throw new ApiError('invalidField', 'is invalid', 'content_type');
  return type;
}

function publicFrom(input: Params): boolean {
  const value = stringParam(input, 'public')?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ApiError('invalidField', 'is invalid', 'public');
}

function tagsFrom(value: unknown): string[] {
  const list = (Array.isArray(value) ? value : [value]).flatMap((v) => {
    if (v === undefined || v === null) return [];
    if (typeof v === 'object') throw new ApiError('invalidField', 'is invalid', 'tag_list');
    return String(v).split(',');
  });
  return [...new Set(list.map((t) => t.trim()).filter(Boolean))];
}

function sizeFrom(params: Params): number {
  const text = stringParam(params, 'size')?.trim();
  if (!text) throw new ApiError('invalidField', "can't be blank", 'size');
  if (!/^\d{1,15}$/.test(text)) throw new ApiError('invalidField', 'is not a number', 'size');
  return Number(text);
}

export async function blobRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const blobs = deps.store.blobs;
  const files = new BlobFiles(join(deps.config.data_dir, 'blobs'));
  const now = () => (deps.now ? deps.now() : new Date());

  /** `<id>` or `<uid>` of a blob of the caller's application; 404 otherwise. */
  const find = async (appId: number, ref: string): Promise<Blob> => {
    const blob = UID.test(ref) ? await blobs.getBlobByUid(ref) : await blobs.getBlob(appId, positiveId(ref));
    if (!blob || blob.appId !== appId) throw new ApiError('notFound');
    return blob;
  };
  const owned = async (req: FastifyRequest, ref: string): Promise<Blob> => {
    const caller = callerOf(req);
    const blob = await find(caller.appId, ref);
    if (blob.userId !== caller.userId) throw new ApiError('forbidden');
    return blob;
  };
  const rename = async (req: FastifyRequest, ref: string, input: Params) => {
    const blob = await owned(req, ref);
    const renamed = await blobs.renameBlob(blob.appId, blob.id, nameFrom(input));
    if (!renamed) throw new ApiError('notFound');
    return { blob: blobView(renamed) };
  };

  await blobUploadRoute(app, deps, files);

  app.post('/blobs.json', async (req, reply) => {
    const caller = callerOf(req);
    const input = objectParam(requestParams(req), 'blob');
    const { key, hash } = newUploadKey();
    const expires = new Date(now().getTime() + UPLOAD_KEY_LIFETIME_MS);
    const blob = await blobs.createBlob({
      appId: caller.appId,
      userId: caller.userId,
      uid: randomBytes(16).toString('hex'),
      name: nameFrom(input),
      contentType: contentTypeFrom(input),
      public: publicFrom(input),
      tags: tagsFrom(input.tag_list),
      uploadKeyHash: hash,
      uploadExpiresAt: expires,
    });
    const access = { id: blob.id, blob_id: blob.id, expires: isoSeconds(expires), object_access_type: 'Write', params: uploadUrl(req, deps, key) };
    return reply.code(201).send({ blob: { ...blobView(blob), blob_object_access: access } });
  });

  app.get('/blobs.json', async (req) => {
    const caller = callerOf(req);
    const params = requestParams(req);
    const perPage = Math.max(1, intParam(params, 'per_page', 10, MAX_PER_PAGE));
    const page = Math.max(1, intParam(params, 'page', 1));
    const { total, blobs: items } = await blobs.listBlobs(caller.appId, caller.userId, { limit: perPage, offset: (page - 1) * perPage });
    return { current_page: page, per_page: perPage, total_entries: total, items: items.map((b) => ({ blob: blobView(b) })) };
  });

  // The SDK's content.update sends its change as a GET with blob[name] in the query.
  app.get<{ Params: { ref: string } }>('/blobs/:ref.json', { config: { auth: 'session' } }, async (req) => {
    const change = objectParam(requestParams(req), 'blob');
    if (Object.keys(change).length > 0) return rename(req, req.params.ref, change);
    return { blob: blobView(await find(sessionOf(req).appId, req.params.ref)) };
  });

  app.put<{ Params: { ref: string } }>('/blobs/:ref.json', async (req) =>
    rename(req, req.params.ref, objectParam(requestParams(req), 'blob')));

  app.put<{ Params: { ref: string } }>('/blobs/:ref/complete.json', async (req, reply) => {
    const blob = await owned(req, req.params.ref);
    const size = sizeFrom(requestParams(req));
    if (blob.status === 'complete') {
      if (blob.size !== size) throw new ApiError('invalidField', `does not match the uploaded file (${blob.size} bytes)`, 'size');
      return reply.code(200).send();
    }
    const file = await files.get(blob.uid);
    if (!file) throw new ApiError('invalidField', 'The file has not been uploaded', 'base');
    await file.close();
    if (file.size !== size) throw new ApiError('invalidField', `does not match the uploaded file (${file.size} bytes)`, 'size');
    if (!(await blobs.completeBlob(blob.appId, blob.id, size, now()))) throw new ApiError('notFound');
    return reply.code(200).send();
  });

  app.delete<{ Params: { ref: string } }>('/blobs/:ref.json', async (req, reply) => {
    const blob = await owned(req, req.params.ref);
    if (await blobs.deleteBlob(blob.appId, blob.id)) await files.remove(blob.uid);
    return reply.code(200).send();
  });

  const sessionFor = async (req: FastifyRequest) => {
    const token = tokenOf(req);
    const session = token ? await liveSession(deps, token) : null;
    if (!session) throw new ApiError('noSession');
    req.qbSession = session;
    return session;
  };

  // Downloads (no .json): public blobs for anyone, private ones for any session of their application.
  // The legacy `/blobs/<numeric id>/download` names the blob by id, so it always needs a session.
  const download = async (req: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply) => {
    const ref = req.params.uid;
    const byId = !UID.test(ref);
    const blob = byId ? await blobs.getBlob((await sessionFor(req)).appId, positiveId(ref)) : await blobs.getBlobByUid(ref);
    if (!blob || blob.status !== 'complete') throw new ApiError('notFound');
    if (!blob.public) {
      const session = req.qbSession ?? (await sessionFor(req));
      if (session.appId !== blob.appId) throw new ApiError('notFound');
    }
    const file = await files.get(blob.uid);
    if (!file) throw new ApiError('notFound');
    return sendBlobFile(req, reply, blob, file);
  };
  app.get<{ Params: { uid: string } }>('/blobs/:uid', { config: { auth: 'none' } }, download);
  app.get<{ Params: { uid: string } }>('/blobs/:uid/download', { config: { auth: 'none' } }, download);
  app.get<{ Params: { uid: string } }>('/blobs/:uid/download.json', { config: { auth: 'none' } }, download);
  blobLegacyRoutes(app, deps);
}
