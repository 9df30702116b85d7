// Push notifications, put together: settings files, senders, the delivery loop (which also fires
// scheduled events), the REST service and the chat alerts listening to ChatService.
import type { Logger } from 'pino';
import type { ChatService } from '../chat/service.js';
import type { Config } from '../config/types.js';
import type { Store } from '../storage/types.js';
import { ChatAlerts } from './alerts.js';
import type { ApnsOptions } from './apns.js';
import { PushDelivery, type DeliveryOptions } from './delivery.js';
import type { PresenceDirectory } from './presence.js';
import { SenderPool } from './senders.js';
import { PushService } from './service.js';
import { PushSettingsFiles } from './settings.js';

/** How often scheduled events are looked for. */
const DUE_CHECK_MS = 1000;
/** Finished pushes (sent or failed) are kept this long for event status, then deleted, checked hourly. */
const OUTBOX_KEEP_MS = 7 * 86_400_000;
const PURGE_EVERY_MS = 3_600_000;

export interface PushSystem {
  service: PushService;
  delivery: PushDelivery;
  settings: PushSettingsFiles;
  alerts: ChatAlerts;
  stop(): Promise<void>;
}

export interface PushDeps {
  store: Store;
  chat: ChatService;
  config: Config;
  log: Logger;
  presence: PresenceDirectory;
  /** Tests: trust for local provider certificates, delivery timings. */
  apns?: ApnsOptions;
  delivery?: DeliveryOptions;
}

export function startPush({ store, chat, config, log, presence, ...extra }: PushDeps): PushSystem {
  const settings = new PushSettingsFiles(config.data_dir);
  const senders = new SenderPool(settings, log, extra.apns);
  let delivery: PushDelivery | null = null;
  let lastDueCheck = 0;
  let lastPurge = 0;
  const nudge = () => delivery?.nudge();
  const service = new PushService(store, { onQueued: nudge });
  delivery = new PushDelivery(store, senders, log, {
    maxAttempts: config.push_max_attempts,
    baseBackoffMs: config.push_retry_seconds * 1000,
    beforeClaim: async () => {
      if (Date.now() - lastDueCheck < DUE_CHECK_MS) return;
      lastDueCheck = Date.now();
      await service.runDueEvents();
      if (lastDueCheck - lastPurge >= PURGE_EVERY_MS) {
        lastPurge = lastDueCheck;
        await store.push.purgeOutbox(lastDueCheck - OUTBOX_KEEP_MS);
      }
    },
    ...extra.delivery,
  });
  const alerts = new ChatAlerts(store, settings, presence, { intervalSeconds: config.push_alert_interval }, log, nudge);
  const unsubscribe = chat.events.on('message', (event) => alerts.onMessage(event));
  delivery.start();
  return {
    service,
    delivery,
    settings,
    alerts,
    async stop() {
      unsubscribe();
      await delivery!.stop();
    },
  };
}
