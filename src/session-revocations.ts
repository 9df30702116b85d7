// Stream endings that the CLI recorded in the store (`parley users passwd`, `users delete`, `apps
// delete` run outside the server and hold no streams): every node reads the records after the last
// one it saw every REVOCATION_POLL_MS, and at once when asked (SIGHUP), and ends its own streams of
// that account or application. A node starts after the newest record: streams it did not hold then
// were authenticated after that record.
import type { Logger } from 'pino';
import type { SessionRevocation, SessionRevocationStore } from './storage/types.js';

/** How often a node reads new records: a CLI change ends streams within this (plus the read). */
export const REVOCATION_POLL_MS = 2_000;
/** Records read per query; more are read at once after a full page. */
const PAGE = 100;

export interface RevocationActions {
  /** password: end the user's streams with <reset/>. */
  reset(user: { appId: number; userId: number }): unknown;
  /** user-deleted: end what this node holds of the account. */
  deleted(user: { appId: number; userId: number }): Promise<unknown>;
  /** app-deleted: end the application's streams with <not-authorized/>. */
  appDeleted(appId: number): unknown;
}

export interface RevocationReader {
  /** Reads new records now (SIGHUP); resolves with how many were applied. */
  poll(): Promise<number>;
  stop(): void;
}

export async function readRevocations(store: SessionRevocationStore, act: RevocationActions, log: Logger, intervalMs = REVOCATION_POLL_MS): Promise<RevocationReader> {
  let after = await store.latestId();
  let running: Promise<number> | null = null;
  let stopped = false;

  const apply = async (r: SessionRevocation): Promise<void> => {
    if (r.kind === 'app-deleted') act.appDeleted(r.appId);
    else if (r.userId === null) return;
    else if (r.kind === 'password') act.reset({ appId: r.appId, userId: r.userId });
    else await act.deleted({ appId: r.appId, userId: r.userId });
  };

  const readAll = async (): Promise<number> => {
    let applied = 0;
    for (;;) {
      const page = await store.since(after, PAGE);
      for (const r of page) {
        await apply(r).catch((err: unknown) => log.error({ err, revocation: r.id }, 'ending streams for a recorded revocation failed'));
        after = r.id;
        applied++;
      }
      if (page.length < PAGE || stopped) return applied;
    }
  };

  // One read at a time: a SIGHUP during a timed read joins it.
  const poll = (): Promise<number> => {
    running ??= readAll().finally(() => { running = null; });
    return running;
  };

  const timer = setInterval(() => {
    poll().catch((err: unknown) => log.warn({ err }, 'reading recorded stream revocations failed'));
  }, intervalMs);
  timer.unref();

  return {
    poll,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
