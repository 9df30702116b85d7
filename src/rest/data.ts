// Custom objects (QuickBlox /data/<Class>): records, their children and their file fields. The
// rules live in custom-objects/; this file maps HTTP onto DataService. Any session of the
// application may call these routes (an application session only reads open records); an API key
// without On-Behalf-Of acts with every right in its application.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { ApiError } from '../chat/errors.js';
import { DataService, type DataCaller, type FileInfo } from '../custom-objects/service.js';
import { BlobFiles, BlobTooLargeError } from '../storage/blob-files.js';
import { sendBlobFile } from './blob-download.js';
import { hashUploadKey } from './blob-upload.js';
import { sessionOf, type RestDeps } from './context.js';
import { requestParams, stringParam } from './params.js';

/** QuickBlox's limit for a custom-object file. */
export const MAX_FILE = 32 * 1024 * 1024;

type Cls = { Params: { cls: string } };
type ClsIds = { Params: { cls: string; ids: string } };
type Child = { Params: { parent: string; pid: string; cls: string } };

const ROUTE = { config: { auth: 'session' as const, apiKey: 'unrestricted' as const } };

export async function dataCaller(req: FastifyRequest, deps: RestDeps): Promise<DataCaller> {
  const session = sessionOf(req);
  if (session.userId === null) return { appId: session.appId, viewer: { userId: null, groups: [], unrestricted: req.viaApiKey } };
  const user = await deps.store.accounts.getUser(session.appId, session.userId);
  if (!user) throw new ApiError('noSession');
  return { appId: session.appId, viewer: { userId: user.id, groups: user.tags, unrestricted: false } };
}

export async function dataRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const data = new DataService(deps.store);
  const files = new BlobFiles(join(deps.config.data_dir, 'blobs'));
  const maxFile = Math.min(MAX_FILE, deps.config.blob_max_size);
  const caller = (req: FastifyRequest) => dataCaller(req, deps);

  /** Drops the blob behind a file value (its row and its bytes). */
  const dropFile = async (appId: number, file: FileInfo | null) => {
    if (!file) return;
    const blob = await deps.store.blobs.getBlobByUid(file.file_id);
    if (!blob || blob.appId !== appId) return;
    if (await deps.store.blobs.deleteBlob(appId, blob.id)) await files.remove(blob.uid);
  };
  data.onFilesReleased = async (appId, released) => {
    for (const file of released) await dropFile(appId, file);
  };

  // ---- records ----
  app.post<Cls>('/data/:cls.json', ROUTE, async (req, reply) =>
    reply.code(201).send(await data.create(await caller(req), req.params.cls, requestParams(req))));
  app.get<Cls>('/data/:cls.json', ROUTE, async (req) => data.list(await caller(req), req.params.cls, requestParams(req)));

  app.post<Cls>('/data/:cls/multi.json', ROUTE, async (req, reply) =>
    reply.code(201).send(await data.createMulti(await caller(req), req.params.cls, requestParams(req))));
  app.put<Cls>('/data/:cls/multi.json', ROUTE, async (req) => data.updateMulti(await caller(req), req.params.cls, requestParams(req)));

  const updateByCriteria = async (req: FastifyRequest<Cls>) => data.updateByCriteria(await caller(req), req.params.cls, requestParams(req));
  app.put<Cls>('/data/:cls/by_criteria.json', ROUTE, updateByCriteria);
  app.post<Cls>('/data/:cls/by_criteria.json', ROUTE, updateByCriteria); // q-consultation's spelling
  app.delete<Cls>('/data/:cls/by_criteria.json', ROUTE, async (req) => data.deleteByCriteria(await caller(req), req.params.cls, requestParams(req)));

  app.get<ClsIds>('/data/:cls/:ids.json', ROUTE, async (req) => data.getByIds(await caller(req), req.params.cls, decodeURIComponent(req.params.ids)));
  app.put<ClsIds>('/data/:cls/:ids.json', ROUTE, async (req) => data.update(await caller(req), req.params.cls, req.params.ids, requestParams(req)));
  app.delete<ClsIds>('/data/:cls/:ids.json', ROUTE, async (req, reply) => {
    const ids = decodeURIComponent(req.params.ids);
    const result = await data.delete(await caller(req), req.params.cls, ids);
    if (ids.includes(',')) return reply.code(200).send(result);
    if (result.NotFound.ids.length) throw new ApiError('notFound');
    if (result.WrongPermissions.ids.length) throw new ApiError('forbidden', 'Wrong permission');
    return reply.code(200).send();
  });

  // ---- children ----
  app.post<Child>('/data/:parent/:pid/:cls.json', ROUTE, async (req, reply) =>
    reply.code(201).send(await data.create(await caller(req), req.params.cls, requestParams(req), { className: req.params.parent, id: req.params.pid })));
  app.get<Child>('/data/:parent/:pid/:cls.json', ROUTE, async (req) =>
    data.list(await caller(req), req.params.cls, requestParams(req), { className: req.params.parent, id: req.params.pid }));

  // ---- file fields: bytes in the blob store, the field holds {file_id, name, size, content_type} ----
  app.get<ClsIds>('/data/:cls/:ids/file.json', ROUTE, async (req: FastifyRequest<ClsIds>, reply: FastifyReply) => {
    const who = await caller(req);
    const { file } = await data.fileTarget(who, req.params.cls, req.params.ids, stringParam(requestParams(req), 'field_name'), 'read');
    const blob = file ? await deps.store.blobs.getBlobByUid(file.file_id) : null;
    const stored = blob && blob.appId === who.appId ? await files.get(blob.uid) : null;
    if (!blob || !stored) throw new ApiError('notFound');
    return sendBlobFile(req, reply, blob, stored);
  });

  app.delete<ClsIds>('/data/:cls/:ids/file.json', ROUTE, async (req, reply) => {
    const who = await caller(req);
    const fieldName = stringParam(requestParams(req), 'field_name');
    const { file } = await data.fileTarget(who, req.params.cls, req.params.ids, fieldName, 'update');
    if (!file) throw new ApiError('notFound');
    await dropFile(who.appId, await data.setFile(who, req.params.cls, req.params.ids, fieldName!, null));
    return reply.code(200).send();
  });

  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: maxFile + 1, files: 1, fields: 10, fieldSize: 1024, parts: 12, headerPairs: 100 } });
    scope.post<ClsIds>('/data/:cls/:ids/file.json', ROUTE, async (req) => {
      if (!req.isMultipart()) throw new ApiError('badRequest', 'The upload must be multipart/form-data');
      const who = await caller(req);
      const fields: Record<string, string> = {};
      let info: FileInfo | null = null;
      try {
        for await (const part of req.parts()) {
          if (part.type === 'field') {
            fields[part.fieldname] = String(part.value);
            continue;
          }
          if (part.fieldname !== 'file' || info) throw new ApiError('invalidField', 'unexpected file part', part.fieldname);
          // The field and the permission are checked before a byte is written.
          const { record } = await data.fileTarget(who, req.params.cls, req.params.ids, fields.field_name, 'update');
          const name = (part.filename || 'file').slice(0, 255);
          const contentType = /^[\x21-\x7e]{1,255}$/.test(part.mimetype) ? part.mimetype : 'application/octet-stream';
          const blob = await deps.store.blobs.createBlob({
            appId: who.appId, userId: who.viewer.userId ?? record.userId, uid: randomBytes(16).toString('hex'), name, contentType, public: false, tags: [],
            uploadKeyHash: hashUploadKey(randomBytes(24).toString('base64url')), uploadExpiresAt: new Date(Date.now() + 3600_000),
          });
          let size: number;
          try {
            size = await files.put(blob.uid, part.file, maxFile);
          } catch (err) {
            await deps.store.blobs.deleteBlob(who.appId, blob.id);
            if (err instanceof BlobTooLargeError) throw new ApiError('tooLarge', `File is too large (maximum is ${maxFile} bytes)`);
            throw err;
          }
          await deps.store.blobs.completeBlob(who.appId, blob.id, size, new Date());
          info = { file_id: blob.uid, name, size, content_type: contentType };
        }
      } catch (err) {
        if (err instanceof ApiError || !(err instanceof Error) || 'statusCode' in err || 'syscall' in err) throw err;
        throw new ApiError('badRequest', 'The multipart body is malformed');
      }
      if (!info) throw new ApiError('invalidField', "can't be blank", 'file');
      try {
        await dropFile(who.appId, await data.setFile(who, req.params.cls, req.params.ids, fields.field_name, info));
      } catch (err) {
        await dropFile(who.appId, info); // the record went away (or its rights) while the bytes arrived
        throw err;
      }
      return info;
    });
  });
}
