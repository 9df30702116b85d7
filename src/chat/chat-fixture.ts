// Shared setup for the chat unit tests: a real SQLite store in memory, users made through
// store.accounts, a pinned clock and a record of every event ChatService emits.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { openSqliteStore, type SqliteStore } from '../storage/sqlite/index.js';
import { ApiError, type ApiErrorCode } from './errors.js';
import type { ChatEventMap } from './events.js';
import { ChatService, type Caller } from './service.js';

export const MUC = 'muc.chat.test';

export interface ChatFixture {
  store: SqliteStore;
  chat: ChatService;
  /** Every event emitted so far, in order. */
  events: { [K in keyof ChatEventMap]: { name: K; payload: ChatEventMap[K] } }[keyof ChatEventMap][];
  /** Milliseconds; move it with `tick`. */
  clock: { now: number };
  tick(seconds?: number): void;
  /** A new application with `n` users. */
  newApp(n: number): Promise<Caller[]>;
  close(): Promise<void>;
}

export async function chatFixture(): Promise<ChatFixture> {
  const store = await openSqliteStore(':memory:');
  const clock = { now: Date.UTC(2024, 0, 1, 12, 0, 0) };
  const chat = new ChatService(store, { mucDomain: MUC, now: () => clock.now });
  const events: ChatFixture['events'] = [];
  for (const name of ['message', 'occupantsRemoved', 'dialogDeleted'] as const) {
    chat.events.on(name, (payload) => void events.push({ name, payload } as ChatFixture['events'][number]));
  }
  return {
    store,
    chat,
    events,
    clock,
    tick(seconds = 1) {
      clock.now += seconds * 1000;
    },
    async newApp(n) {
      const app = await store.accounts.createApplication({});
      const callers: Caller[] = [];
      for (let i = 0; i < n; i++) {
        const user = await store.accounts.createUser(app.id, { login: `user${i}-${randomBytes(3).toString('hex')}`, password: 'pw' });
        callers.push({ appId: app.id, userId: user.id });
      }
      return callers;
    },
    close: () => store.close(),
  };
}

/** Asserts that `promise` rejects with that ApiError code (and text, when given). */
export async function rejectsWith(promise: Promise<unknown>, code: ApiErrorCode, text?: string, field?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (text !== undefined) assert.equal(err.message, text);
    if (field !== undefined) assert.equal(err.field, field);
    return true;
  });
}
