// The push store: device subscriptions (QuickBlox /subscriptions), events (/events) and the
// durable outbox every push goes through on its way to a provider.

export type PushChannel = 'apns' | 'apns_voip' | 'gcm';
export type PushEnvironment = 'development' | 'production';
export const PUSH_CHANNELS: readonly PushChannel[] = ['apns', 'apns_voip', 'gcm'];
export const PUSH_ENVIRONMENTS: readonly PushEnvironment[] = ['development', 'production'];

/** The most subscriptions one user may hold (QuickBlox's limit). */
export const MAX_SUBSCRIPTIONS_PER_USER = 10;

export interface PushSubscription {
  id: number;
  appId: number;
  userId: number;
  channel: PushChannel;
  environment: PushEnvironment;
  /** The APNs device token (hex) or the FCM registration token. */
  token: string;
  bundleId: string | null;
  platform: string;
  udid: string;
  createdAt: Date;
  updatedAt: Date;
}

export type NewPushSubscription = Omit<PushSubscription, 'id' | 'createdAt' | 'updatedAt'>;

/** The user already holds MAX_SUBSCRIPTIONS_PER_USER subscriptions and this one would be another. */
export class TooManySubscriptionsError extends Error {
  constructor() {
    super(`at most ${MAX_SUBSCRIPTIONS_PER_USER} subscriptions per user`);
    this.name = 'TooManySubscriptionsError';
  }
}

export type PushEventType = 'one_shot' | 'fixed_date' | 'period_date';

/** Who an event goes to, as the client named them. */
export interface PushRecipients {
  userIds?: number[];
  tagsAny?: string[];
  tagsAll?: string[];
  tagsExclude?: string[];
  externalIds?: string[];
}

export interface PushEvent {
  id: number;
  appId: number;
  /** The user who created it. */
  userId: number;
  eventType: PushEventType;
  environment: PushEnvironment;
  /** null: the universal form, every channel. */
  pushType: PushChannel | null;
  /** As stored and returned (normalised base64 / platform form). */
  message: string;
  recipients: PushRecipients;
  name: string | null;
  /** Unix seconds. */
  date: number | null;
  endDate: number | null;
  period: number | null;
  active: boolean;
  occuredCount: number;
  /** Epoch ms of the next scheduled run; null when nothing is scheduled. */
  nextRunAt: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewPushEvent = Omit<PushEvent, 'id' | 'createdAt' | 'updatedAt'>;

export interface PushEventChanges {
  message?: string;
  name?: string | null;
  date?: number | null;
  endDate?: number | null;
  period?: number | null;
  active?: boolean;
  eventType?: PushEventType;
  nextRunAt?: number | null;
  updatedAt: Date;
}

export type OutboxState = 'pending' | 'sent' | 'failed';

/** One push to one device, waiting for (or done with) delivery. */
export interface OutboxPush {
  id: number;
  appId: number;
  eventId: number | null;
  subscriptionId: number | null;
  userId: number;
  channel: PushChannel;
  environment: PushEnvironment;
  token: string;
  bundleId: string | null;
  /** The provider body: APNs JSON for apns channels, FCM `data` for gcm (JSON text). */
  payload: string;
  /** Pending pushes with the same key collapse: a newer one replaces the older payload. */
  collapseKey: string | null;
  state: OutboxState;
  attempts: number;
  /** Epoch ms: not sent before. */
  dueAt: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export type NewOutboxPush = Pick<OutboxPush, 'appId' | 'eventId' | 'subscriptionId' | 'userId' | 'channel' | 'environment' | 'token' | 'bundleId' | 'payload' | 'collapseKey' | 'dueAt'>;

/** What became of one delivery attempt. */
export type DeliveryResult =
  | { kind: 'sent' }
  | { kind: 'retry'; at: number; error: string }
  | { kind: 'failed'; error: string }
  /** The provider says the device is gone: the push fails and its subscription is removed. */
  | { kind: 'unregistered'; error: string };

export interface EventDeliveryStatus {
  pending: number;
  sent: number;
  failed: number;
}

export interface PushStore {
  /**
   * Creates or replaces the user's subscription for (udid, channel); the same token held by
   * another user of the application on that channel moves to this user. Throws
   * TooManySubscriptionsError when this would be the user's 11th.
   */
  saveSubscription(sub: NewPushSubscription, at: Date): Promise<PushSubscription>;
  /** Oldest first. */
  listSubscriptions(appId: number, userId: number): Promise<PushSubscription[]>;
  deleteSubscription(appId: number, userId: number, id: number): Promise<boolean>;
  /** The subscriptions of these users (of one application), optionally of one environment; by id. */
  subscriptionsOf(appId: number, userIds: number[], environment?: PushEnvironment): Promise<PushSubscription[]>;

  /** Stores the event and, in the same transaction, the pushes it causes now. */
  createEvent(event: NewPushEvent, pushes: NewOutboxPush[], at: Date): Promise<PushEvent>;
  getEvent(appId: number, id: number): Promise<PushEvent | null>;
  /** The user's events, newest first, with the total before paging. */
  listEvents(appId: number, userId: number, page: { limit: number; offset: number }): Promise<{ total: number; events: PushEvent[] }>;
  /** Applies the changes and queues `pushes` in one transaction; null when there is no such event. */
  updateEvent(appId: number, id: number, changes: PushEventChanges, pushes?: NewOutboxPush[]): Promise<PushEvent | null>;
  deleteEvent(appId: number, id: number): Promise<boolean>;
  /** Active events whose next run is due, soonest first. */
  dueEvents(now: number, limit: number): Promise<PushEvent[]>;
  /**
   * Fires a scheduled run exactly once across nodes: when the event's next run is still
   * `expectedRunAt`, moves it to `nextRunAt` (null: done, inactive), counts the occurrence and
   * queues the pushes; false (nothing changed) when another node fired it first.
   */
  fireEvent(id: number, expectedRunAt: number, nextRunAt: number | null, pushes: NewOutboxPush[], at: Date): Promise<boolean>;
  eventStatus(eventId: number): Promise<EventDeliveryStatus>;

  /** Queues pushes; one with the collapse key of a still-pending push replaces that push's payload instead. */
  enqueue(pushes: NewOutboxPush[]): Promise<void>;
  /**
   * Claims up to `limit` due pending pushes for `leaseMs` (one claimant at a time across nodes
   * and processes); a claim not completed in time is claimable again. Each claim counts an attempt.
   */
  claim(now: number, leaseMs: number, limit: number): Promise<OutboxPush[]>;
  /** Records what became of a claimed push. */
  complete(id: number, result: DeliveryResult, at: Date): Promise<void>;
  /** Pushes of one event, or all, for tests and status. */
  outbox(filter: { eventId?: number; appId?: number }): Promise<OutboxPush[]>;
  /** Deletes finished pushes created before `before` (epoch ms); returns how many. */
  purgeOutbox(before: number): Promise<number>;
}
