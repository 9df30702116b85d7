// Sends a stored blob's bytes: type, length, name, validators (ETag, Last-Modified) with
// conditional requests, and single byte ranges. A blob's bytes never change once it is complete,
// so its uid is a strong ETag.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';
import type { StoredFile } from '../storage/blob-files.js';
import type { Blob } from '../storage/types.js';
import { parseByteRange } from './byte-range.js';

/** RFC 5987 attr-char: what may stand unescaped in `filename*`. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** `inline; filename="..."` with an ASCII stand-in, plus `filename*` (UTF-8) when the name needs it. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (ascii === name) return `inline; filename="${name}"`;
  const encoded = Array.from(new TextEncoder().encode(name), (byte) => {
    const char = String.fromCharCode(byte);
    return byte < 0x80 && ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** If-None-Match (strong or weak comparison, RFC 9110 §13.1.2), else If-Modified-Since. */
function notModified(req: FastifyRequest, etag: string, lastModified: Date): boolean {
  const ifNoneMatch = header(req, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.split(',').some((tag) => {
      const t = tag.trim();
      return t === '*' || t === etag || t === `W/${etag}`;
    });
  }
  const since = Date.parse(header(req, 'if-modified-since') ?? '');
  return Number.isFinite(since) && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

/** If-Range: the Range applies only while the validator still matches. */
function rangeStillApplies(req: FastifyRequest, etag: string, lastModified: Date): boolean {
  const ifRange = header(req, 'if-range')?.trim();
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"')) return ifRange === etag;
  return Date.parse(ifRange) === Math.floor(lastModified.getTime() / 1000) * 1000;
}

export async function sendBlobFile(req: FastifyRequest, reply: FastifyReply, blob: Blob, file: StoredFile): Promise<FastifyReply> {
  const etag = `"${blob.uid}"`;
  const lastModified = blob.completedAt ?? file.modifiedAt;
  reply.headers({
    'ETag': etag,
    'Last-Modified': lastModified.toUTCString(),
    'Cache-Control': blob.public ? 'public' : 'private',
    'Accept-Ranges': 'bytes',
    // The bytes come from users: never let a browser run them as a page of this origin.
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
  });
  if (notModified(req, etag, lastModified)) {
    await file.close();
    return reply.code(304).send();
  }
  const range = rangeStillApplies(req, etag, lastModified) ? parseByteRange(header(req, 'range'), file.size) : null;
  if (range === 'unsatisfiable') {
    await file.close();
    reply.header('Content-Range', `bytes */${file.size}`);
    throw new ApiError('rangeNotSatisfiable');
  }
  reply.headers({ 'Content-Type': blob.contentType, 'Content-Disposition': contentDisposition(blob.name) });
  if (range) {
    reply.code(206).headers({ 'Content-Range': `bytes ${range.start}-${range.end}/${file.size}`, 'Content-Length': range.end - range.start + 1 });
    return reply.send(file.read(range));
  }
  reply.code(200).header('Content-Length', file.size);
  return reply.send(file.read());
}
