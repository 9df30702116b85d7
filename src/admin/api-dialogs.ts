// Console API: an application's dialogs (paged by id, filtered by type, occupant or name), one
// dialog with its latest history and attachments, and deleting a dialog for everyone.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sendBlobFile } from '../rest/blob-download.js';
import { BlobFiles } from '../storage/blob-files.js';
import type { ChatMessage, Dialog, DialogType } from '../storage/types.js';
import { operatorOf } from './auth.js';
import { appOf } from './api-apps.js';
import { notFound, type AdminDeps } from './context.js';

const PAGE = 50;
const HISTORY = 200;
const OBJECT_ID = { type: 'string', pattern: '^[0-9a-f]{24}$' } as const;
const ID = { type: 'string', pattern: '^[0-9]{1,15}$' } as const;
const DIALOG_PARAMS = { type: 'object', properties: { appId: ID, dialogId: OBJECT_ID }, required: ['appId', 'dialogId'] } as const;

const dialogView = (d: Dialog) => ({
  id: d.id, type: d.type, name: d.name, owner_id: d.ownerId, occupant_ids: d.occupantIds, admin_ids: d.adminIds,
  last_message: d.lastMessage, last_message_date_sent: d.lastMessageDateSent, created_at: d.createdAt.toISOString(), updated_at: d.updatedAt.toISOString(),
});

const messageView = (m: ChatMessage) => ({
  id: m.id, sender_id: m.senderId, recipient_id: m.recipientId, body: m.body, date_sent: m.dateSent,
  attachments: m.attachments, custom: m.customParams, read_ids: m.readIds, delivered_ids: m.deliveredIds,
});

interface DialogQuery { type?: string; user?: string; name?: string; after?: string }

export function dialogRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const chat = deps.store.chat;
  const files = new BlobFiles(join(deps.config.data_dir, 'blobs'));

  app.get<{ Querystring: DialogQuery }>('/apps/:appId/dialogs', {
    schema: {
      params: { type: 'object', properties: { appId: ID }, required: ['appId'] },
      querystring: { type: 'object', properties: { type: { enum: ['', '1', '2', '3'] }, user: { type: 'string', pattern: '^([0-9]{1,15})?$' }, name: { type: 'string', maxLength: 100 }, after: { type: 'string', pattern: '^([0-9a-f]{24})?$' } } },
    },
  }, async (req) => {
    const target = await appOf(deps, req);
    const { type, user, name, after } = req.query;
    const matches = (d: Dialog) =>
      (!type || d.type === (Number(type) as DialogType)) &&
      (!name || (d.name ?? '').toLowerCase().includes(name.toLowerCase())) &&
      (!user || d.ownerId === Number(user) || d.occupantIds.includes(Number(user)));
    // A page walks the ids in order (oldest first) and keeps the dialogs that match.
    const ids = await chat.dialogIds(target.id, after || null, PAGE);
    const dialogs = (await Promise.all(ids.map((id) => chat.getDialog(target.id, id)))).filter((d): d is Dialog => d !== null && matches(d));
    return { items: dialogs.map(dialogView), next: ids.length === PAGE ? ids.at(-1) : null };
  });

  app.get('/apps/:appId/dialogs/:dialogId', { schema: { params: DIALOG_PARAMS } }, async (req) => {
    const target = await appOf(deps, req);
    const dialog = await chat.getDialog(target.id, (req.params as { dialogId: string }).dialogId);
    if (!dialog) throw notFound('dialog');
    const latest = await chat.listMessages({ dialogId: dialog.id, viewerId: 0, filters: [], sort: { field: 'date_sent', direction: 'desc' }, limit: HISTORY, skip: 0 });
    const total = await chat.countMessages({ dialogId: dialog.id, viewerId: 0, filters: [] });
    return { dialog: dialogView(dialog), total, messages: latest.reverse().map(messageView) };
  });

  app.delete('/apps/:appId/dialogs/:dialogId', { schema: { params: DIALOG_PARAMS } }, async (req, reply) => {
    const target = await appOf(deps, req);
    const dialog = await chat.getDialog(target.id, (req.params as { dialogId: string }).dialogId);
    if (!dialog || !(await chat.deleteDialog(target.id, dialog.id))) throw notFound('dialog');
    // Rooms close and occupants learn of it the way they do when the owner deletes the dialog.
    deps.chat.events.emit('dialogDeleted', { dialog, actor: dialog.ownerId });
    deps.log.info({ app: target.id, dialog: dialog.id, operator: operatorOf(req).email }, 'console: dialog deleted');
    return reply.code(204).send();
  });

  // An attachment's file, public or private, by uid or by id; only within the application.
  app.get<{ Params: { appId: string; ref: string } }>('/apps/:appId/blobs/:ref', {
    schema: { params: { type: 'object', properties: { appId: ID, ref: { type: 'string', pattern: '^([0-9a-f]{32}|[0-9]{1,15})$' } }, required: ['appId', 'ref'] } },
  }, async (req, reply) => {
    const target = await appOf(deps, req);
    const ref = req.params.ref;
    const blob = ref.length === 32 ? await deps.store.blobs.getBlobByUid(ref) : await deps.store.blobs.getBlob(target.id, Number(ref));
    if (!blob || blob.appId !== target.id || blob.status !== 'complete') throw notFound('file');
    const file = await files.get(blob.uid);
    if (!file) throw notFound('file');
    return sendBlobFile(req, reply, blob, file);
  });
}
