// QuickBlox's "custom identity provider": an application may name a verification URL that Parley
// calls with the login and password (usually the provider's user id and token) a client signs in
// with. The provider's JSON answer is mapped to a Parley user, made on first sign-in and updated on
// later ones, linked by the provider's user id (`uid`). Stored as the application setting
// `identity_provider`; see parseProviderSettings for its shape.
import { randomBytes } from 'node:crypto';
import { ApiError } from '../chat/errors.js';
import type { Store, User, UserProfile } from '../storage/types.js';
import { DuplicateUserError } from '../storage/types.js';

export const IDENTITY_PROVIDER_SETTING = 'identity_provider';
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_TEMPLATES = 20;
const MAPPED = ['uid', 'login', 'email', 'full_name', 'external_user_id'] as const;

export interface ProviderSettings {
  url: string;
  method: 'GET' | 'POST';
  /** Header name → template (`#{login}`, `#{password}`, `#{email}`); `_` in names becomes `-`. */
  headers: Record<string, string>;
  /** Query (GET) or JSON body (POST) parameter → template. */
  params: Record<string, string>;
  /** User field → `#{path.in.answer}`; `uid` is required. */
  mapping: Partial<Record<(typeof MAPPED)[number], string>>;
  timeoutMs: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function templates(raw: unknown, what: string): Record<string, string> {
  if (raw === undefined) return {};
  if (!isRecord(raw) || Object.keys(raw).length > MAX_TEMPLATES) throw new Error(`${what} must be an object of at most ${MAX_TEMPLATES} strings`);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string' || v.length > 1024 || !/^[A-Za-z0-9_-]{1,64}$/.test(k)) throw new Error(`${what}.${k} must be a string`);
  }
  return raw as Record<string, string>;
}

/** Checks an `identity_provider` setting (JSON text or object) as the operator gives it. */
export function parseProviderSettings(raw: unknown): ProviderSettings {
  const value = typeof raw === 'string' ? JSON.parse(raw) as unknown : raw;
  if (!isRecord(value)) throw new Error('identity_provider must be a JSON object');
  const url = value.url;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url) || url.length > 2048) throw new Error('identity_provider.url must be an http(s) URL');
  const method = value.method === undefined ? 'POST' : String(value.method).toUpperCase();
  if (method !== 'GET' && method !== 'POST') throw new Error('identity_provider.method must be GET or POST');
  const mapping = templates(value.mapping, 'identity_provider.mapping');
  if (!mapping.uid) throw new Error('identity_provider.mapping.uid is required');
  for (const k of Object.keys(mapping)) if (!(MAPPED as readonly string[]).includes(k)) throw new Error(`identity_provider.mapping.${k}: maps ${MAPPED.join(', ')}`);
  const timeoutMs = value.timeout_ms === undefined ? 5000 : Number(value.timeout_ms);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 30_000) throw new Error('identity_provider.timeout_ms must be 100 to 30000');
  return { url, method, headers: templates(value.headers, 'identity_provider.headers'), params: templates(value.params, 'identity_provider.params'), mapping, timeoutMs };
}

/** `#{login}` etc. replaced by what the client sent. */
const fill = (template: string, vars: Record<string, string>) => template.replace(/#\{(\w+)\}/g, (_, name: string) => vars[name] ?? '');

/** `#{user.id}` read from the answer; only scalars count. */
function pick(answer: unknown, template: string): string | null {
  const match = /^#\{([\w.]+)\}$/.exec(template.trim());
  if (!match) return template;
  let cur: unknown = answer;
  for (const key of match[1].split('.')) cur = isRecord(cur) ? cur[key] : undefined;
  if (typeof cur === 'string' && cur.length > 0 && cur.length <= 255) return cur;
  if (typeof cur === 'number' && Number.isFinite(cur)) return String(cur);
  return null;
}

async function readBounded(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new ApiError('identityProviderBadAnswer');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks the provider; returns the mapped fields or throws the ApiError the client gets. */
export async function verifyWithProvider(settings: ProviderSettings, credentials: { login: string; password: string; email: string }): Promise<Record<string, string>> {
  const vars = credentials;
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [name, template] of Object.entries(settings.headers)) headers[name.replace(/_/g, '-')] = fill(template, vars);
  const params = Object.fromEntries(Object.entries(settings.params).map(([k, t]) => [k, fill(t, vars)]));
  const url = new URL(settings.url);
  let body: string | undefined;
  if (settings.method === 'GET') for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  else {
    body = JSON.stringify(params);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(url, { method: settings.method, headers, body, redirect: 'error', signal: AbortSignal.timeout(settings.timeoutMs) });
  } catch {
    throw new ApiError('identityProviderUnavailable');
  }
  let text: string;
  try {
    text = await readBounded(res);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('identityProviderUnavailable');
  }
  if (res.status >= 500) throw new ApiError('identityProviderUnavailable');
  if (res.status < 200 || res.status > 299) {
    // The provider's refusal goes back to the app (as QuickBlox does), as one bounded line of text.
    let message = text;
    try {
      const parsed = JSON.parse(text) as unknown;
      const e = isRecord(parsed) ? (parsed.errors ?? parsed.error ?? parsed.message) : undefined;
      if (e !== undefined) message = typeof e === 'string' ? e : JSON.stringify(e);
    } catch {
      // not JSON: the text itself
    }
    throw new ApiError('unauthorized', message.replace(/[\x00-\x1f]+/g, ' ').trim().slice(0, 200) || 'Unauthorized');
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ApiError('identityProviderBadAnswer');
  }
  const mapped: Record<string, string> = {};
  for (const [field, template] of Object.entries(settings.mapping)) {
    const value = pick(answer, template);
    if (value !== null) mapped[field] = value;
  }
  if (!mapped.uid) throw new ApiError('identityProviderBadAnswer');
  return mapped;
}

/**
 * Signs in through the application's provider, or returns undefined when it has none. The user is
 * the one linked to the provider's uid, made (with a login from the answer, or `idp-<uid>`) on the
 * first sign-in and updated with the mapped fields on later ones.
 */
export async function signInWithProvider(store: Store, appId: number, credentials: { login?: string; email?: string; password: string }): Promise<User | undefined> {
  const raw = await store.appSettings.get(appId, IDENTITY_PROVIDER_SETTING);
  if (raw === undefined) return undefined;
  const settings = parseProviderSettings(raw);
  const mapped = await verifyWithProvider(settings, { login: credentials.login ?? '', password: credentials.password, email: credentials.email ?? '' });
  const profile: UserProfile = {
    ...(mapped.email ? { email: mapped.email } : {}),
    ...(mapped.full_name ? { fullName: mapped.full_name } : {}),
    ...(mapped.external_user_id ? { externalUserId: mapped.external_user_id } : {}),
  };
  const linked = await store.identityLinks.findLinkedUser(appId, mapped.uid);
  try {
    if (linked !== null) {
      const updated = await store.accounts.updateUser(appId, linked, { ...profile, ...(mapped.login ? { login: mapped.login } : {}) });
      if (updated) return updated;
    }
    const login = mapped.login ?? `idp-${mapped.uid}`;
    // No password of its own: a random one nobody knows, so only the provider signs this user in.
    const user = await store.accounts.createUser(appId, { ...profile, login, password: randomBytes(24).toString('base64url') });
    await store.identityLinks.link(appId, mapped.uid, user.id);
    return user;
  } catch (err) {
    if (err instanceof DuplicateUserError) throw new ApiError('invalidField', 'has already been taken', err.field);
    throw err;
  }
}
