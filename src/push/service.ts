// QuickBlox's push API as domain operations (REST maps HTTP onto them): subscriptions of the
// caller's devices, and events — sent now (one_shot) or scheduled (fixed_date, period_date) —
// whose pushes enter the outbox in the same transaction as the event.
import { ApiError } from '../chat/errors.js';
import type { Caller } from '../chat/context.js';
import type { Params } from '../chat/params.js';
import {
  PUSH_CHANNELS, PUSH_ENVIRONMENTS, TooManySubscriptionsError,
  type NewOutboxPush, type PushChannel, type PushEnvironment, type PushEvent, type PushEventType, type PushSubscription,
} from '../storage/push-types.js';
import type { Store } from '../storage/types.js';
import { parseEventMessage } from './message.js';
import { parseRecipients, resolveRecipients, tagQuery } from './recipients.js';
import { outboxPushes } from './targets.js';

export const PERIODS = [86_400, 604_800, 2_592_000, 31_557_600];
const EVENT_TYPES: PushEventType[] = ['one_shot', 'fixed_date', 'period_date'];
const PLATFORMS = ['ios', 'android', 'web', 'windows_phone', 'blackberry'];
/** A scheduled date this far in the past still counts as now (clocks differ). */
const PAST_SLACK_S = 60;

const isRecord = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (field: string, text = 'is invalid') => new ApiError('invalidField', text, field);

function text(params: Params, key: string, field: string, max: number): string | undefined {
  const v = params[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw invalid(field);
  const s = String(v).trim();
  if (s.length > max) throw invalid(field, `is too long (maximum is ${max} characters)`);
  return s;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], field: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw invalid(field, 'is not included in the list');
  return value as T;
}

function unixSeconds(params: Params, key: string): number | null | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (v === null || v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 4_102_444_800) throw invalid(key);
  return n;
}

function bool(v: unknown): boolean | undefined {
  if (v === true || v === 1 || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === '0' || v === 'false') return false;
  return undefined;
}

export function subscriptionView(s: PushSubscription) {
  return {
    subscription: {
      id: s.id,
      notification_channel: { name: s.channel },
      device: {
        udid: s.udid,
        client_identification_sequence: s.token,
        platform: { name: s.platform },
        bundle_identifier: s.bundleId,
        environment: s.environment,
      },
    },
  };
}

const iso = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

export function eventView(e: PushEvent) {
  return {
    event: {
      id: e.id,
      event_type: e.eventType,
      message: e.message,
      date: iso(e.date),
      period: e.period,
      name: e.name,
      occured_count: e.occuredCount,
      created_at: e.createdAt.toISOString(),
      updated_at: e.updatedAt.toISOString(),
      end_date: iso(e.endDate),
      active: e.active,
      application_id: e.appId,
      user_id: e.userId,
      kind: 'API',
      environment: e.environment,
      tag_query: tagQuery(e.recipients),
      notification_channel: { name: e.pushType ?? 'universal' },
    },
  };
}

/** When a period_date event runs next after `after` (ms): whole periods from its start; null past end_date. */
export function nextPeriodRun(e: Pick<PushEvent, 'date' | 'period' | 'endDate'>, after: number): number | null {
  if (e.date === null || e.period === null) return null;
  const start = e.date * 1000;
  const step = e.period * 1000;
  const next = after < start ? start : start + (Math.floor((after - start) / step) + 1) * step;
  return e.endDate !== null && next > e.endDate * 1000 ? null : next;
}

export interface PushServiceOptions {
  now?: () => number;
  /** Called after pushes were queued, so the delivery loop starts on them at once. */
  onQueued?: () => void;
}

export class PushService {
  private readonly now: () => number;

  constructor(private readonly store: Store, private readonly options: PushServiceOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  // ---- subscriptions ----

  async createSubscription(caller: Caller, params: Params): Promise<PushSubscription[]> {
    const channel = oneOf(text(params, 'notification_channel', 'notification_channel', 32), PUSH_CHANNELS, 'notification_channel');
    if (!channel) throw invalid('notification_channel', "can't be blank");
    const token = isRecord(params.push_token) ? params.push_token : {};
    const device = isRecord(params.device) ? params.device : {};
    const environment = oneOf(text(token, 'environment', 'environment', 32), PUSH_ENVIRONMENTS, 'environment');
    if (!environment) throw invalid('environment', "can't be blank");
    const sequence = text(token, 'client_identification_sequence', 'client_identification_sequence', 4096);
    if (!sequence) throw invalid('client_identification_sequence', "can't be blank");
    const pattern = channel === 'gcm' ? /^[A-Za-z0-9_:.\-]{8,4096}$/ : /^[0-9A-Fa-f]{16,200}$/;
    if (!pattern.test(sequence)) throw invalid('client_identification_sequence');
    const platform = oneOf(text(device, 'platform', 'platform', 32)?.toLowerCase(), PLATFORMS, 'platform');
    if (!platform) throw invalid('platform', "can't be blank");
    const udid = text(device, 'udid', 'udid', 255);
    if (!udid) throw invalid('udid', "can't be blank");
    const bundleId = text(token, 'bundle_identifier', 'bundle_identifier', 255) ?? null;
    try {
      await this.store.push.saveSubscription({
        appId: caller.appId, userId: caller.userId, channel, environment,
        token: channel === 'gcm' ? sequence : sequence.toLowerCase(), bundleId, platform, udid,
      }, new Date(this.now()));
    } catch (err) {
      if (err instanceof TooManySubscriptionsError) throw new ApiError('tooManySubscriptions');
      throw err;
    }
    return this.store.push.listSubscriptions(caller.appId, caller.userId);
  }

  listSubscriptions(caller: Caller): Promise<PushSubscription[]> {
    return this.store.push.listSubscriptions(caller.appId, caller.userId);
  }

  async deleteSubscription(caller: Caller, id: number): Promise<void> {
    if (!(await this.store.push.deleteSubscription(caller.appId, caller.userId, id))) throw new ApiError('notFound');
  }

  // ---- events ----

  private async pushesFor(appId: number, eventId: number | null, recipients: PushEvent['recipients'], environment: PushEnvironment,
    pushType: PushChannel | null, message: string): Promise<NewOutboxPush[]> {
    const parsed = parseEventMessage(message, pushType);
    const users = await resolveRecipients(this.store, appId, recipients);
    const subs = await this.store.push.subscriptionsOf(appId, users, environment);
    return outboxPushes(subs, pushType, parsed, { appId, eventId, dueAt: this.now() });
  }

  async createEvent(caller: Caller, body: Params): Promise<PushEvent> {
    const params = isRecord(body.event) ? body.event : body;
    const notificationType = text(params, 'notification_type', 'notification_type', 16);
    if (!notificationType) throw invalid('notification_type', "can't be blank");
    if (notificationType !== 'push') throw invalid('notification_type', notificationType === 'email' ? 'email is not supported' : 'is not included in the list');
    const environment = oneOf(text(params, 'environment', 'environment', 32), PUSH_ENVIRONMENTS, 'environment');
    if (!environment) throw invalid('environment', "can't be blank");
    const pushType = oneOf(text(params, 'push_type', 'push_type', 32), PUSH_CHANNELS, 'push_type') ?? null;
    const message = parseEventMessage(params.message, pushType);
    const date = unixSeconds(params, 'date') ?? null;
    const endDate = unixSeconds(params, 'end_date') ?? null;
    const periodValue = unixSeconds(params, 'period') ?? null;
    const nowS = Math.floor(this.now() / 1000);
    const eventType = oneOf(text(params, 'event_type', 'event_type', 32), EVENT_TYPES, 'event_type')
      ?? (periodValue !== null ? 'period_date' : date !== null ? 'fixed_date' : 'one_shot');
    if (eventType === 'one_shot' && (date !== null || periodValue !== null)) throw invalid('event_type', 'one_shot takes neither date nor period');
    if (eventType === 'fixed_date') {
      if (date === null) throw invalid('date', "can't be blank");
      if (date < nowS - PAST_SLACK_S) throw invalid('date', "can't be in the past");
    }
    if (eventType === 'period_date' && (periodValue === null || !PERIODS.includes(periodValue))) throw invalid('period', `must be one of ${PERIODS.join(', ')}`);
    const start = eventType === 'one_shot' ? null : date ?? nowS;
    if (endDate !== null && start !== null && endDate < start) throw invalid('end_date', 'must be after date');
    const name = text(params, 'name', 'name', 255) ?? null;
    const recipients = parseRecipients(params);
    const pushes = await this.pushesFor(caller.appId, null, recipients, environment, pushType, message.stored);
    if (pushes.length === 0) throw new ApiError('noRecipients');
    const period = eventType === 'period_date' ? periodValue : null;
    const event = await this.store.push.createEvent({
      appId: caller.appId, userId: caller.userId, eventType, environment, pushType, message: message.stored, recipients, name,
      date: start, endDate, period, active: true, occuredCount: eventType === 'one_shot' ? 1 : 0,
      nextRunAt: start === null ? null : start * 1000,
    }, eventType === 'one_shot' ? pushes : [], new Date(this.now()));
    if (eventType === 'one_shot') this.options.onQueued?.();
    return event;
  }

  async listEvents(caller: Caller, params: Params) {
    const page = Math.max(1, Number.parseInt(String(params.page ?? '1'), 10) || 1);
    const perPage = Math.min(100, Math.max(1, Number.parseInt(String(params.per_page ?? '10'), 10) || 10));
    const { total, events } = await this.store.push.listEvents(caller.appId, caller.userId, { limit: perPage, offset: (page - 1) * perPage });
    return { current_page: page, per_page: perPage, total_entries: total, items: events.map(eventView) };
  }

  /** The caller's own event; 404 for another's (QuickBlox does not reveal them). */
  async getEvent(caller: Caller, id: number): Promise<PushEvent> {
    const event = await this.store.push.getEvent(caller.appId, id);
    if (!event || event.userId !== caller.userId) throw new ApiError('notFound');
    return event;
  }

  async updateEvent(caller: Caller, id: number, body: Params): Promise<PushEvent> {
    const event = await this.getEvent(caller, id);
    const params = isRecord(body.event) ? body.event : body;
    const nowMs = this.now();
    const message = params.message !== undefined ? parseEventMessage(params.message, event.pushType).stored : undefined;
    const name = params.name !== undefined ? text(params, 'name', 'name', 255) ?? null : undefined;
    const date = unixSeconds(params, 'date');
    const period = unixSeconds(params, 'period');
    if (period !== undefined && period !== null && !PERIODS.includes(period)) throw invalid('period', `must be one of ${PERIODS.join(', ')}`);
    const active = params.active !== undefined ? bool(params.active) : undefined;
    if (params.active !== undefined && active === undefined) throw invalid('active');
    const merged = { ...event, message: message ?? event.message, date: date === undefined ? event.date : date, period: period === undefined ? event.period : period };
    let nextRunAt: number | null | undefined;
    let pushes: NewOutboxPush[] = [];
    if (event.eventType === 'one_shot') {
      if (active === true) {
        pushes = await this.pushesFor(event.appId, event.id, event.recipients, event.environment, event.pushType, merged.message);
        if (pushes.length === 0) throw new ApiError('noRecipients');
      }
    } else if (active === false) nextRunAt = null;
    else if (active === true || date !== undefined || period !== undefined) {
      nextRunAt = event.eventType === 'fixed_date' ? (merged.date === null ? null : merged.date * 1000) : nextPeriodRun(merged, nowMs - 1);
    }
    const updated = await this.store.push.updateEvent(event.appId, id, {
      message, name, date, period, active, nextRunAt, updatedAt: new Date(nowMs),
    }, pushes);
    if (!updated) throw new ApiError('notFound');
    if (pushes.length) this.options.onQueued?.();
    return updated;
  }

  async deleteEvent(caller: Caller, id: number): Promise<void> {
    await this.getEvent(caller, id);
    await this.store.push.deleteEvent(caller.appId, id);
  }

  async eventStatus(caller: Caller, id: number) {
    const event = await this.getEvent(caller, id);
    const counts = await this.store.push.eventStatus(id);
    const total = counts.pending + counts.sent + counts.failed;
    const status = total === 0 ? (event.nextRunAt !== null ? 'scheduled' : 'empty')
      : counts.pending > 0 ? 'pending' : counts.failed === 0 ? 'sent' : counts.sent === 0 ? 'failed' : 'partially_sent';
    return { event_status: { id, status, total, sent: counts.sent, pending: counts.pending, failed: counts.failed, occured_count: event.occuredCount } };
  }

  /** Fires the scheduled events that are due (each once across nodes); returns how many fired. */
  async runDueEvents(limit = 50): Promise<number> {
    const now = this.now();
    let fired = 0;
    for (const event of await this.store.push.dueEvents(now, limit)) {
      const runAt = event.nextRunAt!;
      const next = event.eventType === 'period_date' ? nextPeriodRun(event, now) : null;
      let pushes: NewOutboxPush[] = [];
      try {
        pushes = await this.pushesFor(event.appId, event.id, event.recipients, event.environment, event.pushType, event.message);
      } catch {
        // A message that no longer parses (it was checked when stored) sends nothing; the schedule moves on.
      }
      if (await this.store.push.fireEvent(event.id, runAt, next, pushes, new Date(now))) fired++;
    }
    if (fired) this.options.onQueued?.();
    return fired;
  }
}
