// The messages between the read pool (main thread) and its workers. Answers travel as one JSON
// string with times as epoch milliseconds: for a page of plain rows that costs the event loop about
// half of what deserialising the same objects from a structured clone does.
import type { ChatMessage, ChatStore, UserDialog } from '../types.js';

/** The chat store reads that may run on a worker: pages and counts, the costly reads of the REST API. */
export const POOLED_READS = ['listMessages', 'countMessages', 'listDialogs', 'countDialogs'] as const satisfies readonly (keyof ChatStore)[];
export type PooledRead = (typeof POOLED_READS)[number];

export interface ReadRequest {
  id: number;
  method: PooledRead;
  args: unknown[];
}

/** A task of an extension loaded into the workers (ReadPool.extend): its answer travels as it is. */
export interface TaskRequest {
  id: number;
  task: string;
  args: unknown[];
}

/** Loads an extension module into a worker that is already running. */
export interface LoadRequest {
  load: ReadExtension;
}

/** A module run in every read worker, with the options it is set up with (structured-cloneable). */
export interface ReadExtension {
  url: string;
  options: unknown;
}

/** An extension module's one export (see storage/read-tasks.ts). */
export type { ReadTasksFactory } from '../read-tasks.js';

export type ReadReply =
  | { id: number; ok: true; json: string }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

type Timed = { createdAt: Date | number; updatedAt: Date | number };

function timesToNumbers(item: Timed): void {
  item.createdAt = (item.createdAt as Date).getTime();
  item.updatedAt = (item.updatedAt as Date).getTime();
}

function timesToDates(item: Timed): void {
  item.createdAt = new Date(item.createdAt);
  item.updatedAt = new Date(item.updatedAt);
}

/** In the worker: a read's answer as JSON (it changes the answer's objects, which are the worker's own). */
export function encodeAnswer(method: PooledRead, value: unknown): string {
  if (method === 'listMessages') for (const m of value as ChatMessage[]) timesToNumbers(m as unknown as Timed);
  else if (method === 'listDialogs') for (const d of value as UserDialog[]) timesToNumbers(d.dialog as unknown as Timed);
  return JSON.stringify(value);
}

/** On the main thread: the answer as the chat store returns it. */
export function decodeAnswer(method: PooledRead, json: string): unknown {
  const value = JSON.parse(json) as unknown;
  if (method === 'listMessages') for (const m of value as Timed[]) timesToDates(m);
  else if (method === 'listDialogs') for (const d of value as { dialog: Timed }[]) timesToDates(d.dialog);
  return value;
}
