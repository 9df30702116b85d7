// Admin verbs for the QuickBlox platform surfaces: custom-object classes, API keys and
// per-application settings. Each returns the lines (or JSON) to print; main.ts owns the I/O.
import { ApiError } from '../chat/errors.js';
import { parseFieldList } from '../custom-objects/fields.js';
import { AUTO_CREATE_SETTING, classView, DataService } from '../custom-objects/service.js';
import { IDENTITY_PROVIDER_SETTING, parseProviderSettings } from '../identity/provider.js';
import { newApiKey } from '../rest/api-keys.js';
import type { ApiKey } from '../storage/api-keys-types.js';
import type { Store } from '../storage/types.js';

/** Settings `parley apps set` accepts, with how their text is read. */
export const APP_SETTINGS: Record<string, (text: string) => unknown> = {
  [IDENTITY_PROVIDER_SETTING]: (text) => {
    parseProviderSettings(text);
    return JSON.parse(text);
  },
  [AUTO_CREATE_SETTING]: (text) => {
    if (text === 'true' || text === 'on' || text === '1') return true;
    if (text === 'false' || text === 'off' || text === '0') return false;
    throw new Error(`${AUTO_CREATE_SETTING} takes true or false`);
  },
};

const apiError = (err: unknown): never => {
  if (err instanceof ApiError) {
    const body = err.body().errors;
    throw new Error(Array.isArray(body) ? body.join('; ') : Object.entries(body).map(([k, v]) => `${k} ${v.join(', ')}`).join('; '));
  }
  throw err;
};

export async function createClass(store: Store, appId: number, name: string, fields: string) {
  const cls = await new DataService(store).createClass(appId, name, parseFieldListOrThrow(fields)).catch(apiError);
  return classView(cls);
}

function parseFieldListOrThrow(fields: string) {
  try {
    return parseFieldList(fields);
  } catch (err) {
    return apiError(err);
  }
}

export async function listClasses(store: Store, appId: number) {
  return (await store.customObjects.listClasses(appId)).map(classView);
}

export async function deleteClass(store: Store, appId: number, name: string): Promise<boolean> {
  return store.customObjects.deleteClass(appId, name);
}

const keyJson = (k: ApiKey) => ({ id: k.id, app_id: k.appId, created_at: k.createdAt.toISOString(), revoked_at: k.revokedAt?.toISOString() ?? null });

/** The key itself is in this answer only: the store keeps its digest. */
export async function createApiKey(store: Store, appId: number) {
  const { key, hash } = newApiKey();
  const created = await store.apiKeys.createKey(appId, hash, new Date());
  return { id: created.id, key };
}

export async function listApiKeys(store: Store, appId: number) {
  return (await store.apiKeys.listKeys(appId)).map(keyJson);
}

export async function revokeApiKey(store: Store, appId: number, id: number): Promise<boolean> {
  return store.apiKeys.revokeKey(appId, id, new Date());
}

export async function setAppSetting(store: Store, appId: number, key: string, value: string | undefined) {
  const parse = APP_SETTINGS[key];
  if (!parse) throw new Error(`unknown setting "${key}"; known: ${Object.keys(APP_SETTINGS).join(', ')}`);
  await store.appSettings.set(appId, key, value === undefined ? undefined : parse(value));
  return store.appSettings.all(appId);
}
