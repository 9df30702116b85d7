// The session signature (QuickBlox "Authentication and Authorization"): HMAC over every request
// parameter except `signature`, written `name=value` with nested names in brackets and raw values,
// sorted and joined with `&`. SHA-1 by default; SHA-256 when the digest has 64 hex digits.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Params } from './params.js';

function flatten(prefix: string, value: unknown, out: string[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) flatten(`${prefix}[]`, item, out);
  } else if (typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Params)) flatten(`${prefix}[${key}]`, inner, out);
  } else {
    out.push(`${prefix}=${String(value)}`);
  }
}

export function signedMessage(params: Params): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (key !== 'signature') flatten(key, value, parts);
  }
  return parts.sort().join('&');
}

export function sign(params: Params, secret: string, hash: 'sha1' | 'sha256' = 'sha1'): string {
  return createHmac(hash, secret).update(signedMessage(params)).digest('hex');
}

export function signatureMatches(params: Params, secret: string): boolean {
  const given = params.signature;
  if (typeof given !== 'string' || !/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(given)) return false;
  const expected = Buffer.from(sign(params, secret, given.length === 64 ? 'sha256' : 'sha1'), 'hex');
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
