// GET /chat/Message.json and GET /chat/Dialog.json answered whole on a SQLite read worker: the
// chat service runs there over the worker's read-only connection and hands back the response body,
// so the event loop only parses the request, checks the session and writes ready bytes (the
// reads, views and JSON of a 100-item page cost it ~0.6 ms per request otherwise). Whatever the
// worker cannot answer exactly as the main thread would (a page that marks messages read, any
// error, reactions) comes back as null and is answered on the main thread as before.
import type { Caller } from '../chat/context.js';
import { ChatService, type ChatServiceOptions } from '../chat/service.js';
import type { Params } from '../chat/params.js';
import type { ReadWorkerHost } from '../storage/sqlite/read-protocol.js';
import type { SqliteReadPool } from '../storage/sqlite/read-pool.js';
import type { ChatStore, Store } from '../storage/types.js';
import { StoreBusyError } from '../storage/busy.js';
import { pageJson } from './page-json.js';

export type RenderedRead = 'messages' | 'dialogs';
const TASKS: Record<RenderedRead, string> = { messages: 'rest.messages', dialogs: 'rest.dialogs' };

/** Thrown in the worker where the main thread would write (marking a page read). */
class NeedsMainThread extends Error {}

/** The response body as the main thread's route would send it (sendPage, or Fastify's JSON), as UTF-8 in a buffer of its own. */
const body = (answer: unknown): Uint8Array => {
  const items = (answer as { items?: unknown } | null)?.items;
  const text = Array.isArray(items) ? pageJson(answer as { items: object[] }) : JSON.stringify(answer);
  // Encoded here, off the event loop; the buffer is then handed over rather than copied.
  return encoder.encode(text);
};
const encoder = new TextEncoder();

/** In a read worker (ReadPool.extend): the two list reads as tasks. */
export function readTasks(host: ReadWorkerHost, options: unknown) {
  const chat: ChatStore = Object.create(host.chat, { markMessages: { value: () => Promise.reject(new NeedsMainThread()) } });
  const service = new ChatService({ chat } as unknown as Store, { ...(options as ChatServiceOptions), onListenerError: () => undefined });
  const answer = async (read: Promise<unknown>): Promise<Uint8Array | null> => {
    try {
      return body(await read);
    } catch {
      return null;
    }
  };
  return {
    [TASKS.messages]: (caller: Caller, params: Params) => answer(service.listMessages(caller, params)),
    [TASKS.dialogs]: (caller: Caller, params: Params) => answer(service.listDialogs(caller, params)),
  };
}

/** Reads the workers answered, and those they left to the main thread (in this process). */
export const renderedReads = { answered: 0, declined: 0 };

/** On the main thread: the body of a list read rendered on the pool, or null to answer it here. */
export class RenderedPages {
  constructor(private readonly pool: SqliteReadPool, chat: ChatService) {
    const { mucDomain, limits } = chat.settings;
    pool.extend(new URL('./page-render.js', import.meta.url), { mucDomain, limits } satisfies ChatServiceOptions);
  }

  async render(read: RenderedRead, caller: Caller, params: Params): Promise<Buffer | null> {
    if (!this.pool.available) return null;
    // Reactions need the reaction store, which the workers do not open.
    if (params.include_reactions !== undefined) return null;
    let body: Uint8Array | null;
    try {
      body = await this.pool.runTask<Uint8Array | null>(TASKS[read], [caller, params]);
    } catch (err) {
      // Too many reads waiting is an answer (503); a worker that failed is not the request's fault.
      if (err instanceof StoreBusyError) throw err;
      body = null;
    }
    if (body === null) {
      renderedReads.declined++;
      return null;
    }
    renderedReads.answered++;
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }
}
