// Which sender a push goes through: the application's provider credentials for its channel, else
// its webhook, else the log. Senders are kept per application and rebuilt when its settings change.
import type { Logger } from 'pino';
import type { OutboxPush, PushChannel } from '../storage/push-types.js';
import { ApnsSender, type ApnsOptions } from './apns.js';
import { FcmSender } from './fcm.js';
import { LogSender } from './log.js';
import type { PushSender } from './sender.js';
import type { AppPushSettings, PushSettingsFiles } from './settings.js';
import { WebhookSender } from './webhook.js';

interface AppSenders {
  settings: AppPushSettings;
  apns: PushSender | null;
  gcm: PushSender | null;
  webhook: PushSender | null;
}

/** Whether an application has a real (not log-only) way to reach devices of this channel. */
export const canDeliver = (s: AppPushSettings, channel: PushChannel): boolean =>
  s.webhook !== null || (channel === 'gcm' ? s.gcm !== null : s.apns !== null);

export class SenderPool {
  private readonly apps = new Map<number, AppSenders>();
  private readonly logSender: LogSender;

  constructor(private readonly settings: PushSettingsFiles, log: Logger, private readonly apnsOptions: ApnsOptions = {}) {
    this.logSender = new LogSender(log);
  }

  async forPush(push: OutboxPush): Promise<PushSender> {
    const settings = await this.settings.get(push.appId);
    let app = this.apps.get(push.appId);
    if (!app || app.settings !== settings) {
      if (app) this.closeApp(app);
      app = {
        settings,
        apns: settings.apns ? new ApnsSender(settings.apns, this.apnsOptions) : null,
        gcm: settings.gcm ? new FcmSender(settings.gcm) : null,
        webhook: settings.webhook ? new WebhookSender(settings.webhook) : null,
      };
      this.apps.set(push.appId, app);
    }
    const provider = push.channel === 'gcm' ? app.gcm : app.apns;
    return provider ?? app.webhook ?? this.logSender;
  }

  private closeApp(app: AppSenders): void {
    for (const s of [app.apns, app.gcm, app.webhook]) s?.close();
  }

  close(): void {
    for (const app of this.apps.values()) this.closeApp(app);
    this.apps.clear();
  }
}
