// Runs in a worker thread of the read pool (see read-pool.ts): answers the chat store's heavy reads
// on a connection of its own. In WAL mode each statement reads the latest committed snapshot, so a
// read posted after a write was committed on the main connection sees that write.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteChatStore, toMessage } from './chat.js';
import { RenderedMessageReads } from './read-messages.js';
import { DeepPages } from './deep-pages.js';
import type { GroupCommit } from './group-commit.js';
import type { ChatMessage, ChatStore, MessageQuery } from '../types.js';
import {
  encodeAnswer, POOLED_READS, type LoadRequest, type PooledRead, type ReadExtension, type ReadReply, type ReadRequest, type ReadTasksFactory,
  type TaskRequest,
} from './read-protocol.js';

const { path, extensions } = workerData as { path: string; extensions: ReadExtension[] };
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = -32768');
// A reader: any write through this connection is a bug, and SQLite refuses it.
db.pragma('query_only = ON');
// Only the read methods are called, and none of them writes through the group commit.
const chat = new SqliteChatStore(db, null as unknown as GroupCommit);
const allowed = new Set<string>(POOLED_READS);
const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
const deepPages = new DeepPages(chat, () => dataVersion.get()!);

// Extensions see the chat store with deep pages read by keyset, as the pooled reads do.
const rendered = new RenderedMessageReads(db, chat, toMessage as (row: unknown) => ChatMessage, deepPages);
const hostChat: ChatStore = Object.create(chat, {
  listMessages: { value: (query: MessageQuery) => deepPages.listMessages(query) },
  renderMessages: { value: (query: MessageQuery, options: { private: boolean; unreadFor: number | null }) => rendered.render(query, options) },
});
const tasks = new Map<string, (...args: unknown[]) => Promise<unknown>>();
let loaded: Promise<void> = Promise.resolve();
/** An extension that failed to load fails its tasks (with this error), not the worker and its reads. */
let loadError: unknown = null;
const load = (extension: ReadExtension): void => {
  loaded = loaded.then(async () => {
    const factory = (await import(extension.url) as { readTasks: ReadTasksFactory }).readTasks;
    for (const [name, fn] of Object.entries(factory({ chat: hostChat }, extension.options))) tasks.set(name, fn as (...args: unknown[]) => Promise<unknown>);
  }).catch((err: unknown) => {
    loadError = err;
  });
};
for (const extension of extensions) load(extension);

parentPort!.on('message', (request: ReadRequest | TaskRequest | LoadRequest | 'stop') => {
  if (request === 'stop') {
    db.close();
    parentPort!.close();
    return;
  }
  if ('load' in request) return load(request.load);
  void ('task' in request ? runTask(request) : answer(request)).then((reply) => parentPort!.postMessage(reply, transferable(reply)));
});

/** A task's answer that is bytes alone in their buffer moves to the main thread instead of being copied. */
function transferable(reply: ReadReply): ArrayBuffer[] {
  const value = 'value' in reply ? reply.value : null;
  return value instanceof Uint8Array && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength && value.buffer instanceof ArrayBuffer
    ? [value.buffer]
    : [];
}

async function runTask({ id, task, args }: TaskRequest): Promise<ReadReply> {
  try {
    await loaded;
    const fn = tasks.get(task);
    if (!fn) throw loadError ?? new Error(`no such read task: ${task}`);
    return { id, ok: true, value: await fn(...args) };
  } catch (err) {
    return failure(id, err);
  }
}

async function answer({ id, method, args }: ReadRequest): Promise<ReadReply> {
  try {
    if (!allowed.has(method)) throw new Error(`not a pooled read: ${method}`);
    const value = method === 'listMessages'
      ? await deepPages.listMessages(args[0] as MessageQuery)
      : await (chat[method as PooledRead] as (...a: unknown[]) => Promise<unknown>).apply(chat, args);
    return { id, ok: true, json: encodeAnswer(method, value) };
  } catch (err) {
    return failure(id, err);
  }
}

function failure(id: number, err: unknown): ReadReply {
  const e = err as { name?: string; message?: string; code?: string };
  return { id, ok: false, error: { name: e.name ?? 'Error', message: e.message ?? String(err), code: e.code } };
}
