// Size limits on what a message or dialog may carry and on what one page of a list may weigh, so
// that one short request can never produce a response (or a memory peak) of hundreds of megabytes.
// QuickBlox documents none of these for the server (only the dialog name, 200 characters); the
// defaults are Parley's and each has a config key.
import { ApiError } from './errors.js';

export interface ChatLimits {
  /** Characters (UTF-16 code units) of a message's text. */
  messageTextMax: number;
  /** Bytes of a message's custom parameters and attachments together, as JSON; also a dialog's `data`. */
  customMaxBytes: number;
  /** Bytes of the items of one list page (messages, dialogs); a page stops early rather than grow past it. */
  pageMaxBytes: number;
}

export const DEFAULT_CHAT_LIMITS: ChatLimits = {
  messageTextMax: 32_768,
  customMaxBytes: 16_384,
  pageMaxBytes: 4 * 1024 * 1024,
};

/** A dialog photo is a blob id or a URL. */
export const PHOTO_MAX = 2048;

export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '');

/** The JSON of page items measured by itemJsonBytes, so the response reuses it (items are not changed after). */
const itemJsonCache = new WeakMap<object, string>();

/** A page item whose JSON a store already wrote (ChatStore.renderMessages): measured and sent as that JSON. */
export class JsonItem {
  /** `id`: the item's `_id`, for whoever must find it again without parsing the JSON. */
  constructor(readonly json: string, readonly id: string) {}

  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

/** jsonBytes of a page item that the response is about to serialise: the JSON is kept for itemJson. */
export function itemJsonBytes(item: object): number {
  if (item instanceof JsonItem) return Buffer.byteLength(item.json);
  const json = JSON.stringify(item);
  itemJsonCache.set(item, json);
  return Buffer.byteLength(json);
}

/** JSON.stringify(item), from what itemJsonBytes kept when it measured this very object. */
export const itemJson = (item: object): string => (item instanceof JsonItem ? item.json : itemJsonCache.get(item) ?? JSON.stringify(item));

export function checkMessageText(text: string, limits: ChatLimits): string {
  if (text.length > limits.messageTextMax) throw new ApiError('invalidField', `is too long (maximum is ${limits.messageTextMax} characters)`, 'message');
  return text;
}

/** Custom parameters, attachments or dialog data: 422 past `customMaxBytes` of JSON. */
export function checkCustomSize(field: string, limits: ChatLimits, ...values: unknown[]): void {
  let bytes = 0;
  for (const value of values) bytes += jsonBytes(value);
  if (bytes > limits.customMaxBytes) throw new ApiError('invalidField', `is too large (maximum is ${limits.customMaxBytes} bytes)`, field);
}

/**
 * The leading items whose JSON fits in `budget` bytes (always at least one, so paging moves on).
 * `size` is called once per item taken, plus once for the first one left out.
 */
export function takeWithinBytes<T>(items: readonly T[], size: (item: T) => number, budget: number, used = 0): { taken: T[]; bytes: number; full: boolean } {
  const taken: T[] = [];
  let bytes = used;
  for (const item of items) {
    const next = size(item) + 1; // the comma
    if (bytes + next > budget && (taken.length > 0 || used > 0)) return { taken, bytes, full: true };
    taken.push(item);
    bytes += next;
  }
  return { taken, bytes, full: false };
}

/** The limits a configuration sets (its keys, named structurally: chat/ does not import config/). */
export const chatLimits = (config: { message_max_length: number; message_custom_max_bytes: number; rest_page_max_bytes: number }): ChatLimits => ({
  messageTextMax: config.message_max_length,
  customMaxBytes: config.message_custom_max_bytes,
  pageMaxBytes: config.rest_page_max_bytes,
});
