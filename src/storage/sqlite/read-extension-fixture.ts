// A read-pool extension for read-pool.test.ts: tasks that use the worker's chat store, answer bytes,
// or fail.
import type { MessageQuery } from '../types.js';
import type { ReadTasksFactory } from './read-protocol.js';

export const readTasks: ReadTasksFactory = (host, options) => ({
  'fixture.count': async (query: MessageQuery) => ({ count: await host.chat.countMessages(query), options }),
  'fixture.bytes': async (text: string) => new TextEncoder().encode(text),
  'fixture.fail': async () => {
    throw new Error('fixture task failed');
  },
});
