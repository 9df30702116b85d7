// What an XEP-0363 upload slot is, shared by the IQ side (modules/http-upload) and the HTTP side (rest/http-upload.ts): a QuickBlox blob (so the file
// lives in the blob store, counts against the owner and can be attached to QuickBlox messages),
// created public with an upload key, tagged with the size the client announced.
import { createHash, randomBytes } from 'node:crypto';
import type { Blob } from '../storage/types.js';

export const NS_UPLOAD = 'urn:xmpp:http:upload:0';
export const UPLOAD_PATH = '/upload';
export const UPLOAD_TAG = 'xmpp-upload';
export const SLOT_LIFETIME_MS = 300_000;

export const newKey = (): { key: string; hash: string } => {
  const key = randomBytes(24).toString('base64url');
  return { key, hash: hashKey(key) };
};
export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export const sizeTag = (size: number): string => `size:${size}`;

/** The size the slot was given for; null when the blob is not an upload slot. */
export function slotSize(blob: Blob): number | null {
  if (!blob.tags.includes(UPLOAD_TAG)) return null;
  const tag = blob.tags.find((t) => t.startsWith('size:'));
  const size = tag ? Number(tag.slice(5)) : NaN;
  return Number.isSafeInteger(size) && size > 0 ? size : null;
}
