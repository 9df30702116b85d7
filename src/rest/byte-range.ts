// The HTTP Range header (RFC 9110 §14), for downloads: one byte range is served as 206; a header
// this server does not serve (another unit, several ranges, bad syntax) is ignored, which the RFC
// allows, and the whole file goes out as 200.

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

const MAX_RANGE_HEADER = 100;

/** The range to send, 'unsatisfiable' (→ 416), or null to send the whole file. */
export function parseByteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  // One range of two safe integers with some spaces fits; longer headers are ignored before the pattern runs.
  if (header === undefined || header.length > MAX_RANGE_HEADER) return null;
  const match = header.trim().match(/^bytes\s*=\s*(\d*)\s*-\s*(\d*)$/i);
  if (!match) return null;
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (!Number.isSafeInteger(start) || end < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}
