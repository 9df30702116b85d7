// 24-hex ObjectIds as MongoDB makes them (and as the QuickBlox SDKs generate for stanza ids):
// 4 bytes of unix seconds, 5 random bytes per process, a 3-byte counter. Ids made later sort later
// (to the second), so they also serve as a tie-breaker in time-ordered lists.
import { randomBytes } from 'node:crypto';

const PROCESS_RANDOM = randomBytes(5);
let counter = randomBytes(3).readUIntBE(0, 3);

export function newObjectId(nowMs: number = Date.now()): string {
  counter = (counter + 1) & 0xffffff;
  const bytes = Buffer.allocUnsafe(12);
  bytes.writeUInt32BE(Math.floor(nowMs / 1000) >>> 0, 0);
  PROCESS_RANDOM.copy(bytes, 4);
  bytes.writeUIntBE(counter, 9, 3);
  return bytes.toString('hex');
}

const OBJECT_ID = /^[0-9a-fA-F]{24}$/;

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID.test(value);
}

/** The id in its canonical (lower-case) spelling, or null when it is not an ObjectId. */
export function normalizeObjectId(value: unknown): string | null {
  return isObjectId(value) ? value.toLowerCase() : null;
}

/** When the id was made (second precision). */
export function objectIdTime(id: string): Date {
  return new Date(Number.parseInt(id.slice(0, 8), 16) * 1000);
}
