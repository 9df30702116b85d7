// The messages between the read pool (main thread) and its workers.
import type { ChatStore } from '../types.js';

/** The chat store reads that may run on a worker: pages and counts, the costly reads of the REST API. */
export const POOLED_READS = ['listMessages', 'countMessages', 'listDialogs', 'countDialogs'] as const satisfies readonly (keyof ChatStore)[];
export type PooledRead = (typeof POOLED_READS)[number];

export interface ReadRequest {
  id: number;
  method: PooledRead;
  args: unknown[];
}

export type ReadReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };
