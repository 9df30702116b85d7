// Per-application push settings: provider credentials and the chat-alert switch. One JSON file per
// application under <data_dir>/push/, readable by the owner only (the folder 0700, files 0600),
// written whole and renamed into place so that a reader never sees half a file. Nodes of a
// cluster share the data directory already (blobs live there), so they share these files too.
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ApnsCredentials {
  /** The .p8 key (PKCS#8 PEM, EC P-256). */
  keyPem: string;
  keyId: string;
  teamId: string;
  bundleId: string;
  /** Overrides both Apple hosts (sandbox and production); tests point it at a local server. */
  endpoint: string | null;
}

/** A Google service-account key file, as downloaded. */
export interface ServiceAccount {
  type: string;
  project_id: string;
  private_key_id?: string;
  private_key: string;
  client_email: string;
  token_uri: string;
  [key: string]: unknown;
}

export interface FcmCredentials {
  serviceAccount: ServiceAccount;
  /** Overrides https://fcm.googleapis.com. */
  endpoint: string | null;
}

export interface WebhookCredentials {
  url: string;
  secret: string;
}

export interface AlertSettings {
  enabled: boolean;
  /** `{sender}`, `{text}` and `{dialog}` are replaced; null: "<sender name>: <text>". */
  template: string | null;
}

export interface AppPushSettings {
  apns: ApnsCredentials | null;
  gcm: FcmCredentials | null;
  webhook: WebhookCredentials | null;
  alerts: AlertSettings;
}

export const defaultSettings = (): AppPushSettings => ({ apns: null, gcm: null, webhook: null, alerts: { enabled: true, template: null } });

/** What `parley push show` prints: which channels are set up, never a key or secret. */
export function publicSettings(appId: number, s: AppPushSettings) {
  return {
    app_id: appId,
    apns: s.apns ? { key_id: s.apns.keyId, team_id: s.apns.teamId, bundle_id: s.apns.bundleId, endpoint: s.apns.endpoint } : null,
    gcm: s.gcm ? { project_id: s.gcm.serviceAccount.project_id, client_email: s.gcm.serviceAccount.client_email, endpoint: s.gcm.endpoint } : null,
    webhook: s.webhook ? { url: s.webhook.url } : null,
    alerts: s.alerts,
  };
}

/** How long a read of an application's settings file is trusted before the file is looked at again. */
const RECHECK_MS = 1000;

export class PushSettingsFiles {
  private readonly cache = new Map<number, { mtimeMs: number; size: number; settings: AppPushSettings; checkedAt: number }>();

  constructor(private readonly dataDir: string) {}

  get dir(): string {
    return join(this.dataDir, 'push');
  }

  file(appId: number): string {
    return join(this.dir, `app-${appId}.json`);
  }

  /**
   * The application's settings (defaults when none were set). Every stored message asks, so the file
   * is looked at (a stat) at most once a second per application, and re-read only when it changed:
   * `parley push` changes reach a running server within a second.
   */
  async get(appId: number): Promise<AppPushSettings> {
    const cached = this.cache.get(appId);
    const now = Date.now();
    if (cached && now - cached.checkedAt < RECHECK_MS) return cached.settings;
    const path = this.file(appId);
    let info;
    try {
      info = await stat(path);
    } catch {
      const settings = defaultSettings();
      this.cache.set(appId, { mtimeMs: -1, size: -1, settings, checkedAt: now });
      return settings;
    }
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
      cached.checkedAt = now;
      return cached.settings;
    }
    const settings = { ...defaultSettings(), ...(JSON.parse(await readFile(path, 'utf8')) as Partial<AppPushSettings>) };
    this.cache.set(appId, { mtimeMs: info.mtimeMs, size: info.size, settings, checkedAt: now });
    return settings;
  }

  async update(appId: number, change: (s: AppPushSettings) => void): Promise<AppPushSettings> {
    const settings = structuredClone(await this.get(appId));
    change(settings);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const tmp = `${this.file(appId)}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.file(appId));
    this.cache.delete(appId);
    return settings;
  }
}
