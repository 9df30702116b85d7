import type Database from 'better-sqlite3';
import {
  MAX_SUBSCRIPTIONS_PER_USER, TooManySubscriptionsError,
  type DeliveryResult, type EventDeliveryStatus, type NewOutboxPush, type NewPushEvent, type NewPushSubscription,
  type OutboxPush, type PushEnvironment, type PushEvent, type PushEventChanges, type PushStore, type PushSubscription,
} from '../push-types.js';
import type { GroupCommit } from './group-commit.js';

interface SubRow {
  id: number; app_id: number; user_id: number; channel: string; environment: string; token: string;
  bundle_id: string | null; platform: string; udid: string; created_at: number; updated_at: number;
}
interface EventRow {
  id: number; app_id: number; user_id: number; event_type: string; environment: string; push_type: string | null;
  message: string; recipients: string; name: string | null; date: number | null; end_date: number | null;
  period: number | null; active: number; occured_count: number; next_run_at: number | null; created_at: number; updated_at: number;
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
  recipients: JSON.parse(r.recipients), name: r.name, date: r.date, endDate: r.end_date, period: r.period,
  active: r.active === 1, occuredCount: r.occured_count, nextRunAt: r.next_run_at,
  createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
});

const outboxPush = (r: OutboxRow): OutboxPush => ({
  id: r.id, appId: r.app_id, eventId: r.event_id, subscriptionId: r.subscription_id, userId: r.user_id,
  channel: r.channel as OutboxPush['channel'], environment: r.environment as PushEnvironment, token: r.token,
  bundleId: r.bundle_id, payload: r.payload, collapseKey: r.collapse_key, state: r.state as OutboxPush['state'],
  attempts: r.attempts, dueAt: r.due_at, lastError: r.last_error, createdAt: new Date(r.created_at),
  sentAt: r.sent_at === null ? null : new Date(r.sent_at),
});

export class SqlitePushStore implements PushStore {
  private readonly s;

  constructor(private readonly db: Database.Database, private readonly writes: GroupCommit) {
    this.s = {
      subByKey: db.prepare<[number, number, string, string], SubRow>(
        'SELECT * FROM push_subscriptions WHERE app_id = ? AND user_id = ? AND udid = ? AND channel = ?'),
      subCount: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM push_subscriptions WHERE user_id = ?'),
      subMoveToken: db.prepare<[number, string, string, number]>(
        'DELETE FROM push_subscriptions WHERE app_id = ? AND channel = ? AND token = ? AND user_id <> ?'),
      subInsert: db.prepare<[number, number, string, string, string, string | null, string, string, number, number], SubRow>(
        `INSERT INTO push_subscriptions (app_id, user_id, channel, environment, token, bundle_id, platform, udid, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`),
      subUpdate: db.prepare<[string, string, string | null, string, number, number], SubRow>(
        'UPDATE push_subscriptions SET environment = ?, token = ?, bundle_id = ?, platform = ?, updated_at = ? WHERE id = ? RETURNING *'),
      subList: db.prepare<[number, number], SubRow>('SELECT * FROM push_subscriptions WHERE app_id = ? AND user_id = ? ORDER BY id'),
      subDelete: db.prepare<[number, number, number]>('DELETE FROM push_subscriptions WHERE app_id = ? AND user_id = ? AND id = ?'),
      subOf: db.prepare<[number, string, string | null, string | null], SubRow>(
        `SELECT * FROM push_subscriptions WHERE app_id = ? AND user_id IN (SELECT value FROM json_each(?))
         AND (? IS NULL OR environment = ?) ORDER BY id`),
      eventInsert: db.prepare<unknown[], EventRow>(
        `INSERT INTO push_events (app_id, user_id, event_type, environment, push_type, message, recipients, name, date, end_date,
           period, active, occured_count, next_run_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`),
      eventGet: db.prepare<[number, number], EventRow>('SELECT * FROM push_events WHERE app_id = ? AND id = ?'),
      eventCount: db.prepare<[number, number], { n: number }>('SELECT count(*) AS n FROM push_events WHERE app_id = ? AND user_id = ?'),
      eventList: db.prepare<[number, number, number, number], EventRow>(
        'SELECT * FROM push_events WHERE app_id = ? AND user_id = ? ORDER BY id DESC LIMIT +? OFFSET ?'),
      eventDelete: db.prepare<[number, number]>('DELETE FROM push_events WHERE app_id = ? AND id = ?'),
      eventDue: db.prepare<[number, number], EventRow>(
        'SELECT * FROM push_events WHERE next_run_at IS NOT NULL AND active = 1 AND next_run_at <= ? ORDER BY next_run_at LIMIT +?'),
      eventFire: db.prepare<[number | null, number, number, number, number]>(
        `UPDATE push_events SET next_run_at = ?, active = ?, occured_count = occured_count + 1, updated_at = ?
         WHERE id = ? AND next_run_at = ? AND active = 1`),
      eventStatus: db.prepare<[number], { state: string; n: number }>(
        'SELECT state, count(*) AS n FROM push_outbox WHERE event_id = ? GROUP BY state'),
      collapse: db.prepare<[string, string, number], { id: number }>(
        `UPDATE push_outbox SET payload = ? WHERE id = (
           SELECT id FROM push_outbox WHERE state = 'pending' AND collapse_key = ? AND (claimed_until IS NULL OR claimed_until < ?)
           ORDER BY id DESC LIMIT 1) RETURNING id`),
      outInsert: db.prepare<unknown[]>(
        `INSERT INTO push_outbox (app_id, event_id, subscription_id, user_id, channel, environment, token, bundle_id, payload,
           collapse_key, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      anyDue: db.prepare<[number, number], { id: number }>(
        "SELECT id FROM push_outbox WHERE state = 'pending' AND due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) LIMIT 1"),
      claim: db.prepare<[number, number, number, number], OutboxRow>(
        `UPDATE push_outbox SET claimed_until = ?, attempts = attempts + 1 WHERE id IN (
           SELECT id FROM push_outbox WHERE state = 'pending' AND due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)
           ORDER BY due_at, id LIMIT +?) RETURNING *`),
      sent: db.prepare<[number, number]>("UPDATE push_outbox SET state = 'sent', sent_at = ?, claimed_until = NULL, last_error = NULL WHERE id = ?"),
      failed: db.prepare<[string, number]>("UPDATE push_outbox SET state = 'failed', claimed_until = NULL, last_error = ? WHERE id = ?"),
      retry: db.prepare<[number, string, number]>('UPDATE push_outbox SET due_at = ?, claimed_until = NULL, last_error = ? WHERE id = ?'),
      subOfPush: db.prepare<[number], { subscription_id: number | null }>('SELECT subscription_id FROM push_outbox WHERE id = ?'),
      subDeleteById: db.prepare<[number]>('DELETE FROM push_subscriptions WHERE id = ?'),
      outByEvent: db.prepare<[number], OutboxRow>('SELECT * FROM push_outbox WHERE event_id = ? ORDER BY id'),
      outByApp: db.prepare<[number], OutboxRow>('SELECT * FROM push_outbox WHERE app_id = ? ORDER BY id'),
      purge: db.prepare<[number]>("DELETE FROM push_outbox WHERE state <> 'pending' AND created_at < ?"),
    };
  }

  private insertPushes(pushes: NewOutboxPush[], eventId: number | null, at: number): void {
    for (const p of pushes) {
      if (p.collapseKey !== null && this.s.collapse.get(p.payload, p.collapseKey, at)) continue;
      this.s.outInsert.run(p.appId, eventId ?? p.eventId, p.subscriptionId, p.userId, p.channel, p.environment, p.token,
        p.bundleId, p.payload, p.collapseKey, p.dueAt, at);
    }
  }

  async saveSubscription(sub: NewPushSubscription, at: Date): Promise<PushSubscription> {
    return this.writes.run(() => {
      const now = at.getTime();
      this.s.subMoveToken.run(sub.appId, sub.channel, sub.token, sub.userId);
      const existing = this.s.subByKey.get(sub.appId, sub.userId, sub.udid, sub.channel);
      if (existing) return subscription(this.s.subUpdate.get(sub.environment, sub.token, sub.bundleId, sub.platform, now, existing.id)!);
      if (this.s.subCount.get(sub.userId)!.n >= MAX_SUBSCRIPTIONS_PER_USER) throw new TooManySubscriptionsError();
      return subscription(this.s.subInsert.get(sub.appId, sub.userId, sub.channel, sub.environment, sub.token, sub.bundleId,
        sub.platform, sub.udid, now, now)!);
    });
  }

  async listSubscriptions(appId: number, userId: number): Promise<PushSubscription[]> {
    this.writes.flush();
    return this.s.subList.all(appId, userId).map(subscription);
  }

  async deleteSubscription(appId: number, userId: number, id: number): Promise<boolean> {
    return this.writes.run(() => this.s.subDelete.run(appId, userId, id).changes > 0);
  }

  async subscriptionsOf(appId: number, userIds: number[], environment?: PushEnvironment): Promise<PushSubscription[]> {
    if (userIds.length === 0) return [];
    // No flush of the group commit first: every stored message asks (chat alerts), and a flush per
    // message would break up the batches. A subscription is answered to its client only once
    // committed, so what any client was told exists is seen here.
    const env = environment ?? null;
    return this.s.subOf.all(appId, JSON.stringify(userIds), env, env).map(subscription);
  }

  async createEvent(e: NewPushEvent, pushes: NewOutboxPush[], at: Date): Promise<PushEvent> {
    return this.writes.run(() => {
      const now = at.getTime();
      const row = this.s.eventInsert.get(e.appId, e.userId, e.eventType, e.environment, e.pushType, e.message,
        JSON.stringify(e.recipients), e.name, e.date, e.endDate, e.period, e.active ? 1 : 0, e.occuredCount, e.nextRunAt, now, now)!;
      this.insertPushes(pushes, row.id, now);
      return event(row);
    });
  }

  async getEvent(appId: number, id: number): Promise<PushEvent | null> {
    this.writes.flush();
    const row = this.s.eventGet.get(appId, id);
    return row ? event(row) : null;
  }

  async listEvents(appId: number, userId: number, page: { limit: number; offset: number }): Promise<{ total: number; events: PushEvent[] }> {
    this.writes.flush();
    return {
      total: this.s.eventCount.get(appId, userId)!.n,
      events: this.s.eventList.all(appId, userId, page.limit, page.offset).map(event),
    };
  }

  async updateEvent(appId: number, id: number, changes: PushEventChanges, pushes: NewOutboxPush[] = []): Promise<PushEvent | null> {
    return this.writes.run(() => {
      const row = this.s.eventGet.get(appId, id);
      if (!row) return null;
      const columns: Record<string, unknown> = {
        message: changes.message, name: changes.name, date: changes.date, end_date: changes.endDate, period: changes.period,
        active: changes.active === undefined ? undefined : changes.active ? 1 : 0, event_type: changes.eventType,
        next_run_at: changes.nextRunAt, updated_at: changes.updatedAt.getTime(),
      };
      const set = Object.entries(columns).filter(([, v]) => v !== undefined);
      this.db.prepare(`UPDATE push_events SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`).run(...set.map(([, v]) => v), id);
      if (pushes.length > 0) {
        this.insertPushes(pushes, id, changes.updatedAt.getTime());
        this.db.prepare('UPDATE push_events SET occured_count = occured_count + 1 WHERE id = ?').run(id);
      }
      return event(this.s.eventGet.get(appId, id)!);
    });
  }

  async deleteEvent(appId: number, id: number): Promise<boolean> {
    return this.writes.run(() => this.s.eventDelete.run(appId, id).changes > 0);
  }

  async dueEvents(now: number, limit: number): Promise<PushEvent[]> {
    this.writes.flush();
    return this.s.eventDue.all(now, limit).map(event);
  }

  async fireEvent(id: number, expectedRunAt: number, nextRunAt: number | null, pushes: NewOutboxPush[], at: Date): Promise<boolean> {
    return this.writes.run(() => {
      const now = at.getTime();
      if (this.s.eventFire.run(nextRunAt, nextRunAt === null ? 0 : 1, now, id, expectedRunAt).changes === 0) return false;
      this.insertPushes(pushes, id, now);
      return true;
    });
  }

  async eventStatus(eventId: number): Promise<EventDeliveryStatus> {
    this.writes.flush();
    const status: EventDeliveryStatus = { pending: 0, sent: 0, failed: 0 };
    for (const r of this.s.eventStatus.all(eventId)) status[r.state as keyof EventDeliveryStatus] = r.n;
    return status;
  }

  async enqueue(pushes: NewOutboxPush[]): Promise<void> {
    if (pushes.length === 0) return;
    await this.writes.run(() => this.insertPushes(pushes, null, Date.now()));
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<OutboxPush[]> {
    // Idle polling stays a read: the write transaction is taken only when something is due.
    this.writes.flush();
    if (!this.s.anyDue.get(now, now)) return [];
    // The batch's IMMEDIATE transaction holds SQLite's one write lock: no other process claims the same rows.
    // Relaxed: a claim lost to a power failure only makes the push claimable again.
    return this.writes.runRelaxed(() => this.s.claim.all(now + leaseMs, now, now, limit).map(outboxPush));
  }

  async complete(id: number, result: DeliveryResult, at: Date): Promise<void> {
    await this.writes.run(() => {
      switch (result.kind) {
        case 'sent':
          this.s.sent.run(at.getTime(), id);
          return;
        case 'retry':
          this.s.retry.run(result.at, result.error, id);
          return;
        case 'failed':
          this.s.failed.run(result.error, id);
          return;
        case 'unregistered': {
          const sub = this.s.subOfPush.get(id)?.subscription_id;
          this.s.failed.run(result.error, id);
          if (sub != null) this.s.subDeleteById.run(sub);
        }
      }
    });
  }

  async outbox(filter: { eventId?: number; appId?: number }): Promise<OutboxPush[]> {
    this.writes.flush();
    if (filter.eventId !== undefined) return this.s.outByEvent.all(filter.eventId).map(outboxPush);
    return this.s.outByApp.all(filter.appId ?? 0).map(outboxPush);
  }

  async purgeOutbox(before: number): Promise<number> {
    return this.writes.run(() => this.s.purge.run(before).changes);
  }
}
