// Threads that answer reads off the event loop, for a store that has them (SQLite's read pool): a
// caller loads a module of named read tasks into every thread and asks for a task's answer. What a
// caller may depend on, whatever store is underneath.
import type { ChatStore } from './chat-types.js';

/** What a read thread lends a task module: a chat store over its own read-only connection. */
export interface ReadTaskHost {
  chat: ChatStore;
}

/** A task module's one export, `readTasks`: its tasks by name. */
export type ReadTasksFactory = (host: ReadTaskHost, options: unknown) => Record<string, (...args: never[]) => Promise<unknown>>;

export interface ReadTaskPool {
  /** False once closed or when its threads keep failing: then callers answer reads themselves. */
  readonly available: boolean;
  /** Loads the module at `url` (exporting a ReadTasksFactory) into every thread, with structured-cloneable `options`. */
  extend(url: URL | string, options: unknown): void;
  /** A loaded task's answer (rejects with StoreBusyError when too many reads wait). */
  runTask<T>(task: string, args: unknown[]): Promise<T>;
}
