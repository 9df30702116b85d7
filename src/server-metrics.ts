// Composition-side wiring of src/metrics (it sits above core and chat, so it lives beside server.ts).
// Where the minimal metrics get their numbers: chat events for stored messages, an observe-only
// handler in the `metrics` slot of the outbound phase (once per stanza, on the sender's node) for
// messages not stored, and an outgoing filter for delivery latency.
import { stat } from 'node:fs/promises';
import type { Core } from './core/core.js';
import type { RouteContext } from './core/events.js';
import type { ChatService } from './chat/service.js';
import type { Element } from './xml/element.js';
import type { ParleyMetrics } from './metrics/registry.js';

export function wireXmppMetrics(metrics: ParleyMetrics, core: Core, chat: ChatService): void {
  const routedAt = new WeakMap<Element, number>();
  chat.events.on('message', ({ system }) => {
    if (!system) metrics.messages.inc({ stored: 'true' });
  });
  const observe = ({ stanza }: RouteContext): undefined => {
    const type = stanza.attrs.type ?? 'normal';
    if (type === 'error' || type === 'headline' || !stanza.getChild('body')) return undefined;
    routedAt.set(stanza, performance.now());
    const saved = stanza.getChild('extraParams')?.getChildText('save_to_history')?.trim();
    if (saved !== '1' && saved !== 'true') metrics.messages.inc({ stored: 'false' });
    return undefined;
  };
  core.on('message/outbound', 'metrics', observe);
  core.on('message/muc', 'metrics', observe);
  core.addOutgoingFilter((_session, el) => {
    const at = el.name === 'message' ? routedAt.get(el) : undefined;
    if (at !== undefined) metrics.deliveryLatency.observe((performance.now() - at) / 1000);
    return el;
  });
}

/** The bytes of an SQLite database file with its write-ahead log. */
export async function sqliteSize(file: string): Promise<number> {
  let total = 0;
  for (const f of [file, `${file}-wal`]) total += await stat(f).then((s) => s.size, () => 0);
  return total;
}

/** The store's size: the SQLite file (with its log) or the PostgreSQL database; 0 when unknown. */
export async function storeSizeOf(store: object): Promise<number> {
  const sqlite = (store as { db?: { name?: string; memory?: boolean } }).db;
  if (sqlite?.name && !sqlite.memory) return sqliteSize(sqlite.name);
  const pool = (store as { pool?: { query(sql: string): Promise<{ rows: { size: string }[] }> } }).pool;
  if (pool) return Number((await pool.query('SELECT pg_database_size(current_database()) AS size')).rows[0]?.size ?? 0);
  return 0;
}
