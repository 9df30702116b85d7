import type pg from 'pg';
import {
  MAX_SUBSCRIPTIONS_PER_USER, TooManySubscriptionsError,
  type DeliveryResult, type EventDeliveryStatus, type NewOutboxPush, type NewPushEvent, type NewPushSubscription,
  type OutboxPush, type PushEnvironment, type PushEvent, type PushEventChanges, type PushStore, type PushSubscription,
} from '../push-types.js';
import { inTransaction, type Queryable } from './pool.js';

interface SubRow {
  id: number; app_id: number; user_id: number; channel: string; environment: string; token: string;
  bundle_id: string | null; platform: string; udid: string; created_at: number; updated_at: number;
}
interface EventRow {
  id: number; app_id: number; user_id: number; event_type: string; environment: string; push_type: string | null;
  message: string; recipients: PushEvent['recipients']; name: string | null; date: number | null; end_date: number | null;
  period: number | null; active: boolean; occured_count: number; next_run_at: number | null; created_at: number; updated_at: number;
}
interface OutboxRow {
  id: number; app_id: number; event_id: number | null; subscription_id: number | null; user_id: number; channel: string;
  environment: string; token: string; bundle_id: string | null; payload: string; collapse_key: string | null; state: string;
  attempts: number; due_at: number; last_error: string | null; created_at: number; sent_at: number | null;
}

const subscription = (r: SubRow): PushSubscription => ({
  id: r.id, appId: r.app_id, userId: r.user_id, channel: r.channel as PushSubscription['channel'],
  environment: r.environment as PushEnvironment, token: r.token, bundleId: r.bundle_id, platform: r.platform, udid: r.udid,
  createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
});

const event = (r: EventRow): PushEvent => ({
  id: r.id, appId: r.app_id, userId: r.user_id, eventType: r.event_type as PushEvent['eventType'],
  environment: r.environment as PushEnvironment, pushType: r.push_type as PushEvent['pushType'], message: r.message,
  recipients: r.recipients, name: r.name, date: r.date, endDate: r.end_date, period: r.period,
  active: r.active, occuredCount: r.occured_count, nextRunAt: r.next_run_at,
  createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
});

const outboxPush = (r: OutboxRow): OutboxPush => ({
  id: r.id, appId: r.app_id, eventId: r.event_id, subscriptionId: r.subscription_id, userId: r.user_id,
  channel: r.channel as OutboxPush['channel'], environment: r.environment as PushEnvironment, token: r.token,
  bundleId: r.bundle_id, payload: r.payload, collapseKey: r.collapse_key, state: r.state as OutboxPush['state'],
  attempts: r.attempts, dueAt: r.due_at, lastError: r.last_error, createdAt: new Date(r.created_at),
  sentAt: r.sent_at === null ? null : new Date(r.sent_at),
});

async function insertPushes(tx: Queryable, pushes: NewOutboxPush[], eventId: number | null, at: number): Promise<void> {
  for (const p of pushes) {
    if (p.collapseKey !== null) {
      // SKIP LOCKED: a push being claimed right now is left alone, and this one is queued after it.
      const { rowCount } = await tx.query(
        `UPDATE push_outbox SET payload = $1 WHERE id = (
           SELECT id FROM push_outbox WHERE state = 'pending' AND collapse_key = $2 AND (claimed_until IS NULL OR claimed_until < $3)
           ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED)`, [p.payload, p.collapseKey, at]);
      if (rowCount) continue;
    }
    await tx.query(
      `INSERT INTO push_outbox (app_id, event_id, subscription_id, user_id, channel, environment, token, bundle_id, payload,
         collapse_key, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [p.appId, eventId ?? p.eventId, p.subscriptionId, p.userId, p.channel, p.environment, p.token, p.bundleId, p.payload,
        p.collapseKey, p.dueAt, at]);
  }
}

export class PostgresPushStore implements PushStore {
  constructor(private readonly pool: pg.Pool) {}

  async saveSubscription(sub: NewPushSubscription, at: Date): Promise<PushSubscription> {
    return inTransaction(this.pool, async (tx) => {
      const now = at.getTime();
      // The user's row lock makes concurrent registrations of one user count one at a time.
      await tx.query('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [sub.userId]);
      await tx.query('DELETE FROM push_subscriptions WHERE app_id = $1 AND channel = $2 AND token = $3 AND user_id <> $4',
        [sub.appId, sub.channel, sub.token, sub.userId]);
      const existing = await tx.query<SubRow>(
        'UPDATE push_subscriptions SET environment = $1, token = $2, bundle_id = $3, platform = $4, updated_at = $5 WHERE app_id = $6 AND user_id = $7 AND udid = $8 AND channel = $9 RETURNING *',
        [sub.environment, sub.token, sub.bundleId, sub.platform, now, sub.appId, sub.userId, sub.udid, sub.channel]);
      if (existing.rows[0]) return subscription(existing.rows[0]);
      const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM push_subscriptions WHERE user_id = $1', [sub.userId]);
      if (rows[0].n >= MAX_SUBSCRIPTIONS_PER_USER) throw new TooManySubscriptionsError();
      const inserted = await tx.query<SubRow>(
        `INSERT INTO push_subscriptions (app_id, user_id, channel, environment, token, bundle_id, platform, udid, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *`,
        [sub.appId, sub.userId, sub.channel, sub.environment, sub.token, sub.bundleId, sub.platform, sub.udid, now]);
      return subscription(inserted.rows[0]);
    });
  }

  async listSubscriptions(appId: number, userId: number): Promise<PushSubscription[]> {
    const { rows } = await this.pool.query<SubRow>('SELECT * FROM push_subscriptions WHERE app_id = $1 AND user_id = $2 ORDER BY id', [appId, userId]);
    return rows.map(subscription);
  }

  async deleteSubscription(appId: number, userId: number, id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM push_subscriptions WHERE app_id = $1 AND user_id = $2 AND id = $3', [appId, userId, id]);
    return (rowCount ?? 0) > 0;
  }

  async subscriptionsOf(appId: number, userIds: number[], environment?: PushEnvironment): Promise<PushSubscription[]> {
    if (userIds.length === 0) return [];
    // Named: asked for every stored chat message (alerts), so each connection plans it once.
    const { rows } = await this.pool.query<SubRow>({
      name: 'push-subscriptions-of',
      text: 'SELECT * FROM push_subscriptions WHERE app_id = $1 AND user_id = ANY($2::bigint[]) AND ($3::text IS NULL OR environment = $3) ORDER BY id',
      values: [appId, userIds, environment ?? null],
    });
    return rows.map(subscription);
  }

  async createEvent(e: NewPushEvent, pushes: NewOutboxPush[], at: Date): Promise<PushEvent> {
    return inTransaction(this.pool, async (tx) => {
      const now = at.getTime();
      const { rows } = await tx.query<EventRow>(
        `INSERT INTO push_events (app_id, user_id, event_type, environment, push_type, message, recipients, name, date, end_date,
           period, active, occured_count, next_run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING *`,
        [e.appId, e.userId, e.eventType, e.environment, e.pushType, e.message, JSON.stringify(e.recipients), e.name, e.date,
          e.endDate, e.period, e.active, e.occuredCount, e.nextRunAt, now]);
      await insertPushes(tx, pushes, rows[0].id, now);
      return event(rows[0]);
    });
  }

  async getEvent(appId: number, id: number): Promise<PushEvent | null> {
    const { rows } = await this.pool.query<EventRow>('SELECT * FROM push_events WHERE app_id = $1 AND id = $2', [appId, id]);
    return rows[0] ? event(rows[0]) : null;
  }

  async listEvents(appId: number, userId: number, page: { limit: number; offset: number }): Promise<{ total: number; events: PushEvent[] }> {
    return inTransaction(this.pool, async (tx) => {
      const count = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM push_events WHERE app_id = $1 AND user_id = $2', [appId, userId]);
      const { rows } = await tx.query<EventRow>(
        'SELECT * FROM push_events WHERE app_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT $3 OFFSET $4', [appId, userId, page.limit, page.offset]);
      return { total: count.rows[0].n, events: rows.map(event) };
    }, true);
  }

  async updateEvent(appId: number, id: number, changes: PushEventChanges, pushes: NewOutboxPush[] = []): Promise<PushEvent | null> {
    return inTransaction(this.pool, async (tx) => {
      const columns: Record<string, unknown> = {
        message: changes.message, name: changes.name, date: changes.date, end_date: changes.endDate, period: changes.period,
        active: changes.active, event_type: changes.eventType, next_run_at: changes.nextRunAt, updated_at: changes.updatedAt.getTime(),
      };
      const set = Object.entries(columns).filter(([, v]) => v !== undefined);
      const counted = pushes.length > 0 ? ', occured_count = occured_count + 1' : '';
      const { rows } = await tx.query<EventRow>(
        `UPDATE push_events SET ${set.map(([k], i) => `${k} = $${i + 3}`).join(', ')}${counted} WHERE app_id = $1 AND id = $2 RETURNING *`,
        [appId, id, ...set.map(([, v]) => v)]);
      if (!rows[0]) return null;
      await insertPushes(tx, pushes, id, changes.updatedAt.getTime());
      return event(rows[0]);
    });
  }

  async deleteEvent(appId: number, id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM push_events WHERE app_id = $1 AND id = $2', [appId, id]);
    return (rowCount ?? 0) > 0;
  }

  async dueEvents(now: number, limit: number): Promise<PushEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      'SELECT * FROM push_events WHERE next_run_at IS NOT NULL AND active AND next_run_at <= $1 ORDER BY next_run_at LIMIT $2', [now, limit]);
    return rows.map(event);
  }

  async fireEvent(id: number, expectedRunAt: number, nextRunAt: number | null, pushes: NewOutboxPush[], at: Date): Promise<boolean> {
    return inTransaction(this.pool, async (tx) => {
      const now = at.getTime();
      const { rowCount } = await tx.query(
        `UPDATE push_events SET next_run_at = $1, active = $2, occured_count = occured_count + 1, updated_at = $3
         WHERE id = $4 AND next_run_at = $5 AND active`, [nextRunAt, nextRunAt !== null, now, id, expectedRunAt]);
      if (!rowCount) return false;
      await insertPushes(tx, pushes, id, now);
      return true;
    });
  }

  async eventStatus(eventId: number): Promise<EventDeliveryStatus> {
    const { rows } = await this.pool.query<{ state: string; n: number }>(
      'SELECT state, count(*)::int AS n FROM push_outbox WHERE event_id = $1 GROUP BY state', [eventId]);
    const status: EventDeliveryStatus = { pending: 0, sent: 0, failed: 0 };
    for (const r of rows) status[r.state as keyof EventDeliveryStatus] = r.n;
    return status;
  }

  async enqueue(pushes: NewOutboxPush[]): Promise<void> {
    if (pushes.length === 0) return;
    await inTransaction(this.pool, (tx) => insertPushes(tx, pushes, null, Date.now()));
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<OutboxPush[]> {
    // SKIP LOCKED: nodes claiming at the same time take disjoint rows instead of waiting on each other.
    const { rows } = await this.pool.query<OutboxRow>(
      `UPDATE push_outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN (
         SELECT id FROM push_outbox WHERE state = 'pending' AND due_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)
         ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *`, [now + leaseMs, now, limit]);
    return rows.map(outboxPush);
  }

  async complete(id: number, result: DeliveryResult, at: Date): Promise<void> {
    switch (result.kind) {
      case 'sent':
        await this.pool.query("UPDATE push_outbox SET state = 'sent', sent_at = $1, claimed_until = NULL, last_error = NULL WHERE id = $2", [at.getTime(), id]);
        return;
      case 'retry':
        await this.pool.query('UPDATE push_outbox SET due_at = $1, claimed_until = NULL, last_error = $2 WHERE id = $3', [result.at, result.error, id]);
        return;
      case 'failed':
        await this.pool.query("UPDATE push_outbox SET state = 'failed', claimed_until = NULL, last_error = $1 WHERE id = $2", [result.error, id]);
        return;
      case 'unregistered':
        await inTransaction(this.pool, async (tx) => {
          const { rows } = await tx.query<{ subscription_id: number | null }>(
            "UPDATE push_outbox SET state = 'failed', claimed_until = NULL, last_error = $1 WHERE id = $2 RETURNING subscription_id", [result.error, id]);
          if (rows[0]?.subscription_id != null) await tx.query('DELETE FROM push_subscriptions WHERE id = $1', [rows[0].subscription_id]);
        });
    }
  }

  async outbox(filter: { eventId?: number; appId?: number }): Promise<OutboxPush[]> {
    const { rows } = filter.eventId !== undefined
      ? await this.pool.query<OutboxRow>('SELECT * FROM push_outbox WHERE event_id = $1 ORDER BY id', [filter.eventId])
      : await this.pool.query<OutboxRow>('SELECT * FROM push_outbox WHERE app_id = $1 ORDER BY id', [filter.appId ?? 0]);
    return rows.map(outboxPush);
  }

  async purgeOutbox(before: number): Promise<number> {
    const { rowCount } = await this.pool.query("DELETE FROM push_outbox WHERE state <> 'pending' AND created_at < $1", [before]);
    return rowCount ?? 0;
  }
}
