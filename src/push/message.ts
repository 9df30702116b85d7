// QuickBlox's three forms of an event's `message`, and what each becomes for APNs and FCM:
// universal (base64 of JSON or of plain text, no push_type), APNs (`payload=<b64>`) and FCM
// (`data.message=<b64>&data.k=<b64>`), each platform value CGI-escaped before its base64.
import { ApiError } from '../chat/errors.js';
import type { PushChannel } from '../storage/push-types.js';

/** What a provider receives: the APNs body, or FCM data (string values only). */
export interface ApnsContent {
  kind: 'apns';
  body: Record<string, unknown>;
}
export interface FcmContent {
  kind: 'fcm';
  data: Record<string, string>;
}

export interface ParsedMessage {
  /** The message as stored and returned (a plain-text gcm message is normalised to `data.message=`). */
  stored: string;
  /** Universal messages: the fields (`message`, `ios_badge`, custom keys…). */
  universal: Record<string, unknown> | null;
  apns: ApnsContent | null;
  fcm: FcmContent | null;
}

export const MAX_MESSAGE_LENGTH = 8192;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const invalid = (text = 'must be Base64 encoded') => new ApiError('invalidField', text, 'message');

function decodeBase64(text: string): string {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw invalid();
  const bytes = Buffer.from(compact, 'base64');
  const decoded = new TextDecoder('utf-8', { fatal: true });
  try {
    return decoded.decode(bytes);
  } catch {
    throw invalid('must be Base64 of UTF-8 text');
  }
}

/** Ruby's CGI.escape, which QuickBlox applies before base64: space as '+', everything but [A-Za-z0-9_.~-] percent-encoded. */
export const cgiEscape = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');

export function cgiUnescape(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

const encodeValue = (value: string): string => Buffer.from(cgiEscape(value), 'utf8').toString('base64');

/** `k=<b64>&k2=<b64>` into decoded values (unescaped), in order. */
function parsePlatformForm(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalid('must be key=Base64 pairs joined by &');
    pairs.push([part.slice(0, eq), cgiUnescape(decodeBase64(part.slice(eq + 1)))]);
  }
  if (pairs.length === 0) throw invalid("can't be blank");
  if (pairs.length > 100) throw invalid('has too many keys');
  return pairs;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates and normalises an event's message for its push type; throws a QuickBlox-shaped 422. */
export function parseEventMessage(raw: unknown, pushType: PushChannel | null): ParsedMessage {
  if (typeof raw !== 'string' || raw.trim() === '') throw invalid("can't be blank");
  if (raw.length > MAX_MESSAGE_LENGTH) throw invalid(`is too long (maximum is ${MAX_MESSAGE_LENGTH} characters)`);
  const message = raw.trim();
  if (pushType === null) {
    const text = decodeBase64(message);
    let fields: Record<string, unknown> = { message: text };
    if (text.trimStart().startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (isRecord(parsed)) fields = parsed;
      } catch {
        // Plain text that happens to start with a brace.
      }
    }
    return { stored: message, universal: fields, apns: null, fcm: null };
  }
  if (pushType === 'gcm') {
    const form = message.startsWith('data.') ? message : `data.message=${encodeValue(decodeBase64(message))}`;
    const pairs = parsePlatformForm(form);
    const data: Record<string, string> = {};
    for (const [key, value] of pairs) {
      if (key === 'collapse_key') continue;
      if (!key.startsWith('data.') || key.length === 5) throw invalid('keys must be data.<name>');
      data[key.slice(5)] = value;
    }
    if (data.message === undefined) throw invalid('needs data.message');
    return { stored: form, universal: null, apns: null, fcm: { kind: 'fcm', data } };
  }
  const pairs = parsePlatformForm(message.startsWith('payload=') ? message : `payload=${encodeValue(decodeBase64(message))}`);
  const payload = pairs.find(([k]) => k === 'payload')?.[1];
  if (payload === undefined) throw invalid('needs payload=');
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    // Plain text: an alert with that text.
    body = { aps: { alert: payload } };
  }
  if (!isRecord(body)) throw invalid('payload must be a JSON object');
  const stored = message.startsWith('payload=') ? message : `payload=${encodeValue(payload)}`;
  return { stored, universal: null, apns: { kind: 'apns', body }, fcm: null };
}

const IOS_KEYS = new Set(['ios_badge', 'ios_sound', 'ios_content_available', 'ios_mutable_content', 'ios_category', 'ios_voip', 'ios_thread_id']);
const isOn = (v: unknown) => v === 1 || v === '1' || v === true || v === 'true';
const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** A universal message as an APNs body: the ios_* keys into `aps`, the rest at the root. */
export function apnsFromUniversal(fields: Record<string, unknown>): ApnsContent {
  const aps: Record<string, unknown> = {};
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'message') aps.alert = str(value);
    else if (key === 'ios_badge') {
      const n = Number(value);
      if (Number.isInteger(n) && n >= 0) aps.badge = n;
    } else if (key === 'ios_sound') aps.sound = str(value);
    else if (key === 'ios_content_available' && isOn(value)) aps['content-available'] = 1;
    else if (key === 'ios_mutable_content' && isOn(value)) aps['mutable-content'] = 1;
    else if (key === 'ios_category') aps.category = str(value);
    else if (key === 'ios_thread_id') aps['thread-id'] = str(value);
    else if (!IOS_KEYS.has(key) && key !== 'aps') body[key] = value;
  }
  return { kind: 'apns', body: { ...body, aps } };
}

/** A universal message as FCM data: every non-iOS key, values as strings. */
export function fcmFromUniversal(fields: Record<string, unknown>): FcmContent {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (!IOS_KEYS.has(key) && value !== null && value !== undefined) data[key] = str(value);
  return { kind: 'fcm', data };
}

/** Whether a universal message asks for a VoIP push (`ios_voip=1`). */
export const wantsVoip = (fields: Record<string, unknown>): boolean => isOn(fields.ios_voip);

/** The APNs push type and priority a body calls for. */
export function apnsDelivery(channel: PushChannel, body: Record<string, unknown>): { pushType: 'alert' | 'background' | 'voip'; priority: '10' | '5' } {
  if (channel === 'apns_voip') return { pushType: 'voip', priority: '10' };
  const aps = isRecord(body.aps) ? body.aps : {};
  const silent = aps.alert === undefined && aps.badge === undefined && aps.sound === undefined && aps['content-available'] === 1;
  // Apple: a push with only content-available must be background with priority 5.
  return silent ? { pushType: 'background', priority: '5' } : { pushType: 'alert', priority: '10' };
}
