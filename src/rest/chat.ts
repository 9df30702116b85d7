// Chat dialogs and messages (QuickBlox /chat/Dialog and /chat/Message), plus Parley's history
// download for a dialog's occupants. The logic lives in chat/; this file maps HTTP onto it.
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../chat/errors.js';
import { parseBoolean, parseList, type Params } from '../chat/params.js';
import type { ChatService } from '../chat/service.js';
import type { DeleteResult } from '../chat/dialogs.js';
import { EXPORT_FORMATS, exportHistory, type ExportFormat } from '../export/history.js';
import { callerOf, type Caller, type RestDeps } from './context.js';
import { withReactions } from './reactions.js';
import { requestParams, stringParam } from './params.js';
import { sendPage } from './page-json.js';
import { RenderedPages, type RenderedRead } from './page-render.js';

type IdParams = { Params: { ids: string } };

const pathIds = (text: string): string[] => {
  const ids = parseList(decodeURIComponent(text)) ?? [];
  if (ids.length === 0) throw new ApiError('notFound');
  return ids;
};

/** A single id answers with an empty 200 or its failure; a list answers with the three id lists. */
function sendDeleteResult(reply: FastifyReply, ids: string[], result: DeleteResult) {
  if (ids.length > 1) return reply.code(200).send(result);
  if (result.NotFound.ids.length) throw new ApiError('notFound');
  if (result.WrongPermissions.ids.length) throw new ApiError('forbidden');
  return reply.code(200).send();
}

const CONTENT_TYPES: Record<ExportFormat, string> = { jsonl: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' };

export function chatRoutes(app: FastifyInstance, deps: RestDeps): void {
  const chat: ChatService = deps.chat ?? (() => { throw new Error('chatRoutes needs deps.chat'); })();
  const pool = deps.store.readTasks ?? null;
  const rendered = pool ? new RenderedPages(pool, deps.store.chat, chat) : null;
  /** A list read: its body from a read worker when one can answer it, else from the chat service here. */
  const listPage = async (reply: FastifyReply, read: RenderedRead, caller: Caller, params: Params, here: () => Promise<unknown>) => {
    const body = rendered ? await rendered.render(read, caller, params) : null;
    if (body !== null) return reply.type('application/json; charset=utf-8').send(body);
    return sendPage(reply, await here());
  };

  // ---- dialogs ----
  app.post('/chat/Dialog.json', async (req, reply) => reply.code(201).send(await chat.createDialog(callerOf(req), requestParams(req))));
  app.get('/chat/Dialog.json', async (req, reply) => {
    const caller = callerOf(req);
    const params = requestParams(req);
    return listPage(reply, 'dialogs', caller, params, () => chat.listDialogs(caller, params, { rendered: true }));
  });
  app.get<IdParams>('/chat/Dialog/:ids.json', async (req) => chat.getDialog(callerOf(req), req.params.ids));
  app.put<IdParams>('/chat/Dialog/:ids.json', async (req) => (await chat.updateDialog(callerOf(req), req.params.ids, requestParams(req))).dialog);
  app.delete<IdParams>('/chat/Dialog/:ids.json', async (req, reply) => {
    const ids = pathIds(req.params.ids);
    const force = parseBoolean(requestParams(req).force) ?? false;
    return sendDeleteResult(reply, ids, await chat.deleteDialogs(callerOf(req), ids, force));
  });
  app.get<IdParams>('/chat/Dialog/:ids/notifications.json', async (req) => chat.getNotifications(callerOf(req), req.params.ids));
  app.put<IdParams>('/chat/Dialog/:ids/notifications.json', async (req) => chat.setNotifications(callerOf(req), req.params.ids, requestParams(req)));

  // ---- messages ----
  app.post('/chat/Message.json', async (req, reply) => reply.code(201).send(await chat.createMessage(callerOf(req), requestParams(req), { origin: 'rest' })));
  app.get('/chat/Message.json', async (req, reply) => {
    const caller = callerOf(req);
    const params = requestParams(req);
    // Without reactions to attach, the items may be JSON the store wrote (ChatStore.renderMessages).
    const storeJson = params.include_reactions === undefined;
    return listPage(reply, 'messages', caller, params, async () => withReactions(chat, params, await chat.listMessages(caller, params, { rendered: storeJson })));
  });
  app.get('/chat/Message/unread.json', async (req) => chat.unreadCount(callerOf(req), requestParams(req)));
  app.get<IdParams>('/chat/Message/:ids.json', async (req) => withReactions(chat, requestParams(req), await chat.getMessage(callerOf(req), req.params.ids)));
  app.put('/chat/Message.json', async (req, reply) => {
    await chat.updateMessages(callerOf(req), null, requestParams(req));
    return reply.code(200).send();
  });
  app.put<IdParams>('/chat/Message/:ids.json', async (req, reply) => {
    await chat.updateMessages(callerOf(req), pathIds(req.params.ids), requestParams(req));
    return reply.code(200).send();
  });
  app.delete<IdParams>('/chat/Message/:ids.json', async (req, reply) => {
    const ids = pathIds(req.params.ids);
    const force = parseBoolean(requestParams(req).force) ?? false;
    return sendDeleteResult(reply, ids, await chat.deleteMessages(callerOf(req), ids, force));
  });

  // ---- history download (Parley's own): GET /chat/Dialog/{id}/history.json?format=jsonl|csv ----
  app.get<IdParams>('/chat/Dialog/:ids/history.json', async (req, reply) => {
    const caller = callerOf(req);
    const format = (stringParam(requestParams(req), 'format') ?? 'jsonl') as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new ApiError('invalidField', `must be one of ${EXPORT_FORMATS.join(', ')}`, 'format');
    const dialog = await chat.getDialog(caller, req.params.ids); // 404 / 403 before anything is streamed
    const out = new PassThrough();
    const batches = chat.iterateHistory({ appId: caller.appId, dialogId: dialog._id });
    const messages = (async function* () {
      for await (const batch of batches) yield* batch;
    })();
    exportHistory(messages, format, out).then(
      () => out.end(),
      (err) => {
        deps.log.error({ err, dialog: dialog._id }, 'history download failed');
        out.destroy(err as Error);
      },
    );
    return reply
      .code(200)
      .header('content-type', CONTENT_TYPES[format])
      .header('content-disposition', `attachment; filename="dialog-${dialog._id}.${format}"`)
      .send(out);
  });
}
