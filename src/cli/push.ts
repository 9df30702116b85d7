// `parley push set|show|alerts`: an application's push credentials and chat-alert settings, in the
// owner-only settings files the server reads (push/settings.ts). Keys and secrets are never printed.
import { readFile } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import type { Config } from '../config/types.js';
import { PushSettingsFiles, publicSettings, type ServiceAccount } from '../push/settings.js';

export class PushUsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;

function need(values: Values, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new PushUsageError(`missing required option --${name}`);
  return v;
}

function endpoint(values: Values): string | null {
  const v = values.endpoint;
  if (v === undefined) return null;
  if (typeof v !== 'string' || !/^https?:\/\/[^\s]+$/.test(v)) throw new PushUsageError('--endpoint must be an http(s) URL');
  return v.replace(/\/+$/, '');
}

async function readKey(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new PushUsageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function pushSet(config: Config, appId: number, values: Values): Promise<ReturnType<typeof publicSettings>> {
  const files = new PushSettingsFiles(config.data_dir);
  const channel = need(values, 'channel');
  switch (channel) {
    case 'apns': {
      const keyPem = await readKey(need(values, 'key-file'), 'key file');
      try {
        const key = createPrivateKey(keyPem);
        if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not a P-256 key');
      } catch (err) {
        throw new PushUsageError(`--key-file is not an APNs .p8 key (PKCS#8, EC P-256): ${(err as Error).message}`);
      }
      const keyId = need(values, 'key-id');
      const teamId = need(values, 'team-id');
      if (!/^[A-Z0-9]{10}$/.test(keyId)) throw new PushUsageError('--key-id must be the 10-character key id Apple shows');
      if (!/^[A-Z0-9]{10}$/.test(teamId)) throw new PushUsageError('--team-id must be the 10-character team id');
      const bundleId = need(values, 'bundle-id');
      const apns = { keyPem, keyId, teamId, bundleId, endpoint: endpoint(values) };
      return publicSettings(appId, await files.update(appId, (s) => void (s.apns = apns)));
    }
    case 'gcm': {
      const text = await readKey(need(values, 'service-account'), 'service account file');
      let account: ServiceAccount;
      try {
        account = JSON.parse(text) as ServiceAccount;
        for (const k of ['project_id', 'private_key', 'client_email', 'token_uri'] as const) {
          if (typeof account[k] !== 'string' || !account[k]) throw new Error(`no ${k}`);
        }
        createPrivateKey(account.private_key);
      } catch (err) {
        throw new PushUsageError(`--service-account is not a Google service-account key file: ${(err as Error).message}`);
      }
      const gcm = { serviceAccount: account, endpoint: endpoint(values) };
      return publicSettings(appId, await files.update(appId, (s) => void (s.gcm = gcm)));
    }
    case 'webhook': {
      const url = need(values, 'url');
      if (!/^https?:\/\/[^\s]+$/.test(url)) throw new PushUsageError('--url must be an http(s) URL');
      const secret = need(values, 'secret');
      if (secret.length < 16) throw new PushUsageError('--secret must be at least 16 characters');
      return publicSettings(appId, await files.update(appId, (s) => void (s.webhook = { url, secret })));
    }
    default:
      throw new PushUsageError('--channel must be apns, gcm or webhook');
  }
}

export async function pushShow(config: Config, appId: number) {
  return publicSettings(appId, await new PushSettingsFiles(config.data_dir).get(appId));
}

export async function pushAlerts(config: Config, appId: number, values: Values) {
  if (values.enable === values.disable) throw new PushUsageError('give one of --enable or --disable');
  const template = values.template;
  if (template !== undefined && (typeof template !== 'string' || template.length > 500)) throw new PushUsageError('--template must be at most 500 characters');
  const settings = await new PushSettingsFiles(config.data_dir).update(appId, (s) => {
    s.alerts.enabled = values.enable === true;
    if (typeof template === 'string') s.alerts.template = template === '' ? null : template;
  });
  return publicSettings(appId, settings);
}

export function printPushSettings(s: ReturnType<typeof publicSettings>, out: (line?: string) => void): void {
  out(`application ${s.app_id} push settings`);
  out(`  apns:    ${s.apns ? `key ${s.apns.key_id}, team ${s.apns.team_id}, bundle ${s.apns.bundle_id}${s.apns.endpoint ? `, endpoint ${s.apns.endpoint}` : ''}` : '(not set)'}`);
  out(`  gcm:     ${s.gcm ? `project ${s.gcm.project_id}, ${s.gcm.client_email}${s.gcm.endpoint ? `, endpoint ${s.gcm.endpoint}` : ''}` : '(not set)'}`);
  out(`  webhook: ${s.webhook ? s.webhook.url : '(not set)'}`);
  out(`  alerts:  ${s.alerts.enabled ? 'on' : 'off'}${s.alerts.template ? `, template ${JSON.stringify(s.alerts.template)}` : ''}`);
}
