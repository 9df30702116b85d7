// From a message and its recipients to one outbox push per device: which subscriptions get it
// (the push type's channel; universal messages go to every device, VoIP-flagged ones to the
// user's apns_voip devices when there are any) and what each provider receives.
import type { NewOutboxPush, PushChannel, PushEnvironment, PushSubscription } from '../storage/push-types.js';
import { apnsFromUniversal, fcmFromUniversal, wantsVoip, type ParsedMessage } from './message.js';

export interface TargetOptions {
  appId: number;
  eventId: number | null;
  dueAt: number;
  /** Pushes to one device with the same key collapse while pending (`${key}:${subscription id}`). */
  collapseKey?: string | null;
}

/** The subscriptions that receive a message, by push type (null: universal). */
export function chooseSubscriptions(subs: PushSubscription[], pushType: PushChannel | null, voip: boolean): PushSubscription[] {
  if (pushType !== null) return subs.filter((s) => s.channel === pushType);
  const voipUsers = new Set(subs.filter((s) => s.channel === 'apns_voip').map((s) => s.userId));
  return subs.filter((s) => {
    if (s.channel === 'gcm') return true;
    const useVoip = voip && voipUsers.has(s.userId);
    return s.channel === (useVoip ? 'apns_voip' : 'apns');
  });
}

function payloadFor(sub: PushSubscription, message: ParsedMessage): string | null {
  if (message.universal) {
    return sub.channel === 'gcm' ? JSON.stringify(fcmFromUniversal(message.universal).data) : JSON.stringify(apnsFromUniversal(message.universal).body);
  }
  if (message.fcm && sub.channel === 'gcm') return JSON.stringify(message.fcm.data);
  if (message.apns && sub.channel !== 'gcm') return JSON.stringify(message.apns.body);
  return null;
}

export function outboxPushes(subs: PushSubscription[], pushType: PushChannel | null, message: ParsedMessage, opts: TargetOptions): NewOutboxPush[] {
  const voip = message.universal !== null && wantsVoip(message.universal);
  const pushes: NewOutboxPush[] = [];
  for (const sub of chooseSubscriptions(subs, pushType, voip)) {
    const payload = payloadFor(sub, message);
    if (payload === null) continue;
    pushes.push({
      appId: opts.appId, eventId: opts.eventId, subscriptionId: sub.id, userId: sub.userId, channel: sub.channel,
      environment: sub.environment as PushEnvironment, token: sub.token, bundleId: sub.bundleId, payload,
      collapseKey: opts.collapseKey ? `${opts.collapseKey}:${sub.id}` : null, dueAt: opts.dueAt,
    });
  }
  return pushes;
}
