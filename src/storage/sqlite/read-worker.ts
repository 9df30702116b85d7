// Runs in a worker thread of the read pool (see read-pool.ts): answers the chat store's heavy reads
// on a connection of its own. In WAL mode each statement reads the latest committed snapshot, so a
// read posted after a write was committed on the main connection sees that write.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteChatStore } from './chat.js';
import { DeepPages } from './deep-pages.js';
import type { GroupCommit } from './group-commit.js';
import type { MessageQuery } from '../types.js';
import { encodeAnswer, POOLED_READS, type PooledRead, type ReadReply, type ReadRequest } from './read-protocol.js';

const { path } = workerData as { path: string };
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

parentPort!.on('message', (request: ReadRequest | 'stop') => {
  if (request === 'stop') {
    db.close();
    parentPort!.close();
    return;
  }
  void answer(request).then((reply) => parentPort!.postMessage(reply));
});

async function answer({ id, method, args }: ReadRequest): Promise<ReadReply> {
  try {
    if (!allowed.has(method)) throw new Error(`not a pooled read: ${method}`);
    const value = method === 'listMessages'
      ? await deepPages.listMessages(args[0] as MessageQuery)
      : await (chat[method as PooledRead] as (...a: unknown[]) => Promise<unknown>).apply(chat, args);
    return { id, ok: true, json: encodeAnswer(method, value) };
  } catch (err) {
    const e = err as { name?: string; message?: string; code?: string };
    return { id, ok: false, error: { name: e.name ?? 'Error', message: e.message ?? String(err), code: e.code } };
  }
}
