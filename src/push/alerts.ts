// Automatic chat alerts (QuickBlox's "offline messaging"): a message stored in a private or group
// dialog becomes a push to every occupant but the sender who has no available XMPP resource and
// has not muted the dialog, on each of their devices. Per user, alerts closer together than the
// interval wait in the outbox and collapse into one (the newest text, the current badge).
import type { Logger } from 'pino';
import type { MessageEvent } from '../chat/events.js';
import type { ChatMessage, Dialog, Store } from '../storage/types.js';
import type { NewOutboxPush, PushSubscription } from '../storage/push-types.js';
import type { PresenceDirectory } from './presence.js';
import { canDeliver } from './senders.js';
import type { AlertSettings, PushSettingsFiles } from './settings.js';

export const DEFAULT_TEMPLATE = '{sender}: {text}';
export const ATTACHMENT_PLACEHOLDER = '[attachment]';
const MAX_TEXT = 200;
const RATE_MEMORY = 100_000;

export interface AlertOptions {
  /** Seconds between two alerts to one user; 0: no limit. */
  intervalSeconds: number;
  now?: () => number;
}

/** The alert text for a message: the template with `{sender}`, `{text}` and `{dialog}` filled in. */
export function alertText(settings: AlertSettings, senderName: string, message: Pick<ChatMessage, 'body' | 'attachments'>, dialog: Pick<Dialog, 'name'>): string {
  let text = message.body.trim() || (message.attachments.length > 0 ? ATTACHMENT_PLACEHOLDER : '');
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT - 1)}…`;
  const values: Record<string, string> = { sender: senderName, text, dialog: dialog.name ?? '' };
  return (settings.template ?? DEFAULT_TEMPLATE).replace(/\{(sender|text|dialog)\}/g, (_, k: string) => values[k]);
}

export class ChatAlerts {
  private readonly lastAlert = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly settings: PushSettingsFiles,
    private readonly presence: PresenceDirectory,
    private readonly options: AlertOptions,
    private readonly log: Logger,
    private readonly onQueued: () => void,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** When the next alert to this user may go: now, or later (and then it collapses with others). */
  private dueAt(appId: number, userId: number): number {
    const now = this.now();
    const key = `${appId}:${userId}`;
    const last = this.lastAlert.get(key);
    const interval = this.options.intervalSeconds * 1000;
    if (interval > 0 && last !== undefined && now - last < interval) return last + interval;
    this.lastAlert.delete(key);
    if (this.lastAlert.size >= RATE_MEMORY) this.lastAlert.delete(this.lastAlert.keys().next().value!);
    this.lastAlert.set(key, now);
    return now;
  }

  async onMessage(event: MessageEvent): Promise<void> {
    const { record, dialog } = event;
    if (event.system || dialog.type === 1) return;
    const settings = await this.settings.get(record.appId);
    if (!settings.alerts.enabled) return;
    // Those online on this node get no alert: known without a query (in a 1-1 chat, nearly always the case).
    const recipients = dialog.occupantIds.filter((id) => id !== record.senderId && !this.presence.isAvailableHere(record.appId, id));
    if (recipients.length === 0) return;
    // Subscriptions first, in one query: most occupants of a big group have no device to alert.
    const byUser = new Map<number, PushSubscription[]>();
    for (const sub of await this.store.push.subscriptionsOf(record.appId, recipients)) {
      if (sub.channel === 'apns_voip' || !canDeliver(settings, sub.channel)) continue;
      byUser.set(sub.userId, [...(byUser.get(sub.userId) ?? []), sub]);
    }
    const pushes: NewOutboxPush[] = [];
    let text: string | null = null;
    for (const [userId, subs] of byUser) {
      if (!(await this.store.chat.getMemberState(dialog.id, userId)).notificationsEnabled) continue;
      if (await this.presence.isAvailable(record.appId, userId)) continue;
      if (text === null) {
        const sender = await this.store.accounts.getUser(record.appId, record.senderId);
        text = alertText(settings.alerts, sender?.fullName || sender?.login || String(record.senderId), record, dialog);
      }
      let badge = 0;
      for (const n of (await this.store.chat.unreadCounts(record.appId, userId)).values()) badge += n;
      const dueAt = this.dueAt(record.appId, userId);
      for (const sub of subs) {
        const payload = sub.channel === 'gcm'
          ? { message: text, dialog_id: dialog.id, message_id: record.id, badge: String(badge) }
          : { aps: { alert: text, badge, sound: 'default' }, dialog_id: dialog.id, message_id: record.id };
        pushes.push({
          appId: record.appId, eventId: null, subscriptionId: sub.id, userId, channel: sub.channel, environment: sub.environment,
          token: sub.token, bundleId: sub.bundleId, payload: JSON.stringify(payload), collapseKey: `alert:${sub.id}`, dueAt,
        });
      }
    }
    if (pushes.length === 0) return;
    await this.store.push.enqueue(pushes);
    this.log.debug({ message: record.id, pushes: pushes.length }, 'chat alerts queued');
    this.onQueued();
  }
}
