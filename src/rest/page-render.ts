// GET /chat/Message.json and GET /chat/Dialog.json answered whole on a read thread of the store
// (SQLite's read pool): the chat service runs there over the thread's read-only connection and hands
// back the response body, so the event loop only parses the request, checks the session and writes
// ready bytes. A message page that marks messages read comes back as its items' JSON and the marks
// to make: the event loop makes them (writes stay on its connection) and renders again only the
// messages they changed. Whatever the thread cannot answer exactly as the main thread would (any
// error, reactions) comes back as null and is answered on the main thread as before.
import type { Caller } from '../chat/context.js';
import { ChatService, type ChatServiceOptions } from '../chat/service.js';
import { itemJson, JsonItem } from '../chat/limits.js';
import type { Params } from '../chat/params.js';
import { messageView, type MessageView } from '../chat/views.js';
import type { ChatStore, DialogType, MessageMarks, ReadTaskHost, ReadTaskPool, Store } from '../storage/types.js';
import { StoreBusyError } from '../storage/busy.js';
import { pageJson } from './page-json.js';

export type RenderedRead = 'messages' | 'dialogs';
const TASKS: Record<RenderedRead, string> = { messages: 'rest.messages', dialogs: 'rest.dialogs' };

/** A markMessages call the page asked for, to be made on the main thread. */
interface Marks {
  dialogId: string;
  userId: number;
  messageIds: string[];
  marks: MessageMarks;
}

/** A message page to send once its marks are made: the JSON before its items, each item's JSON and id. */
interface PageToMark {
  head: string;
  items: string[];
  ids: string[];
  dialogType: DialogType;
  marks: Marks;
}

type Answer = string | PageToMark | null;

/**
 * The response body as the main thread's route would send it (sendPage, or Fastify's JSON). Handed
 * over as a string, not as UTF-8 bytes in a transferred buffer: every transferred buffer counts as
 * external memory of the event loop's heap, and a page of ~30 KB per request made V8 run a full
 * mark-compact on the event loop every ~300 ms (10–80 ms of pauses each, with no garbage to find),
 * where a string is young garbage that a scavenge frees.
 */
const body = (answer: unknown): string => {
  const items = (answer as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? pageJson(answer as { items: object[] }) : JSON.stringify(answer);
};

/** In a read thread (ReadTaskPool.extend): the two list reads as tasks. */
export function readTasks(host: ReadTaskHost, options: unknown) {
  const settings = { ...(options as ChatServiceOptions), onListenerError: () => undefined };
  const service = new ChatService({ chat: host.chat } as unknown as Store, settings);
  const answer = async (read: Promise<unknown>): Promise<Answer> => {
    try {
      return body(await read);
    } catch {
      return null;
    }
  };
  const messages = async (caller: Caller, params: Params): Promise<Answer> => {
    // The marks a page asks for are noted, not made: this connection only reads.
    const asked: Marks[] = [];
    const markMessages = (dialogId: string, userId: number, messageIds: string[], marks: MessageMarks) => {
      asked.push({ dialogId, userId, messageIds, marks });
      return Promise.resolve([]);
    };
    const chat: ChatStore = Object.create(host.chat, { markMessages: { value: markMessages } });
    try {
      const page = await new ChatService({ chat } as unknown as Store, settings).listMessages(caller, params, { rendered: true });
      if (asked.length === 0) return body(page);
      const items = (page as { items?: unknown }).items;
      const dialog = await host.chat.getDialog(caller.appId, asked[0]!.dialogId);
      if (asked.length > 1 || !Array.isArray(items) || !dialog) return null;
      const views = items as (MessageView | JsonItem)[];
      return {
        head: pageJson({ ...page, items: [] }).slice(0, -2),
        items: views.map(itemJson),
        ids: views.map((v) => (v instanceof JsonItem ? v.id : v._id)),
        dialogType: dialog.type,
        marks: asked[0]!,
      };
    } catch {
      return null;
    }
  };
  return {
    [TASKS.messages]: messages,
    [TASKS.dialogs]: (caller: Caller, params: Params) => answer(service.listDialogs(caller, params, { rendered: true })),
  };
}

/** Reads the threads answered, and those they left to the main thread (in this process). */
export const renderedReads = { answered: 0, declined: 0 };

/** On the main thread: the body of a list read rendered on the store's read threads, or null to answer it here. */
export class RenderedPages {
  constructor(private readonly pool: ReadTaskPool, private readonly store: ChatStore, chat: ChatService) {
    const { mucDomain, limits } = chat.settings;
    pool.extend(new URL('./page-render.js', import.meta.url), { mucDomain, limits } satisfies ChatServiceOptions);
  }

  async render(read: RenderedRead, caller: Caller, params: Params): Promise<string | null> {
    if (!this.pool.available) return null;
    // Reactions need the reaction store, which the threads do not open.
    if (params.include_reactions !== undefined) return null;
    let answer: Answer;
    try {
      answer = await this.pool.runTask<Answer>(TASKS[read], [caller, params]);
    } catch (err) {
      // Too many reads waiting is an answer (503); a thread that failed is not the request's fault.
      if (err instanceof StoreBusyError) throw err;
      answer = null;
    }
    if (answer === null) {
      renderedReads.declined++;
      return null;
    }
    renderedReads.answered++;
    return typeof answer === 'string' ? answer : this.marked(answer);
  }

  /** The page after its marks, with the messages they changed rendered again (as the chat service's list does). */
  private async marked(page: PageToMark): Promise<string> {
    const { dialogId, userId, messageIds, marks } = page.marks;
    const changed = new Map((await this.store.markMessages(dialogId, userId, messageIds, marks)).map((m) => [m.id, m]));
    const items = page.items.map((json, i) => {
      const message = changed.get(page.ids[i]!);
      return message ? JSON.stringify(messageView(message, page.dialogType)) : json;
    });
    return `${page.head}${items.join(',')}]}`;
  }
}
