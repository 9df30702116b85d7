// Byte-level helpers for the stream parser: character classes, an attribute-name intern cache, the
// decoder for text and values that need more than a slice, and UTF-8 chunk bookkeeping. The parser reads
// the input's bytes (and slices a latin1 view of them), so every table here is indexed by a byte value.

// Buffer's own decoders, without toString()'s argument handling: called for every chunk and many tokens.
declare module 'node:buffer' {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
    ucs2Slice(start: number, end: number): string;
  }
}

// Name character classes, as bit flags so one OR over a name says what slow checks it needs.
export const NAME_CHAR = 1;
export const NAME_START = 2;
export const NAME_COLON = 4;
export const NAME_HIGH = 8; // a UTF-8 byte: the name must be decoded and checked against the full XML rules

export const NAME_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  if (letter) NAME_CLASS[c] = NAME_CHAR | NAME_START;
  else if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e) NAME_CLASS[c] = NAME_CHAR;
  else if (c === 0x3a) NAME_CLASS[c] = NAME_CHAR | NAME_START | NAME_COLON;
  else if (c >= 0x80) NAME_CLASS[c] = NAME_CHAR | NAME_START | NAME_HIGH;
}

export const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;

// XML 1.0 (fifth edition) NameStartChar / NameChar beyond ASCII; only used for names with non-ASCII letters.
const NAME_RE =
  /^[:A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\u{10000}-\u{effff}][:A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\u{10000}-\u{effff}\-.0-9\u00b7\u0300-\u036f\u203f-\u2040]*$/u;

/** Whether a name with non-ASCII characters, decoded, is a valid XML name. */
export const isUnicodeName = (name: string): boolean => NAME_RE.test(name);

/** Where the prefix of a QName ends, or -1 when the colons make it no QName (at an end, or two). */
export function prefixEnd(name: string): number {
  const colon = name.indexOf(':');
  return colon > 0 && colon < name.length - 1 && name.indexOf(':', colon + 1) < 0 ? colon : -1;
}

// Attribute names repeat endlessly in a stream; a direct-mapped cache, looked up by a hash computed while
// scanning the name and checked byte by byte, returns the same internalized string for each, without
// slicing the input, and makes the store into the attribute object cheaper.
const CACHE_BITS = 11;
const CACHE_STRIDE = 32; // longest cached name, in bytes
const cacheNames: (string | undefined)[] = new Array<string | undefined>(1 << CACHE_BITS).fill(undefined);
const cacheLengths = new Uint8Array(1 << CACHE_BITS);
const cacheBytes = new Uint8Array(CACHE_STRIDE << CACHE_BITS);

export const hashStep = (h: number, c: number): number => (Math.imul(h, 31) + c) | 0;
const slot = (h: number): number => Math.imul(h, 0x9e3779b1) >>> (32 - CACHE_BITS);

/** The ASCII name in b[start, end) (also s[start, end), s being b as latin1), whose scan hash is h. */
export function internName(b: Uint8Array, s: string, start: number, end: number, h: number): string {
  const length = end - start;
  if (length > CACHE_STRIDE) return s.slice(start, end);
  const i = slot(h);
  const hit = cacheNames[i];
  if (hit !== undefined && cacheLengths[i] === length) {
    const base = i * CACHE_STRIDE;
    let j = 0;
    while (j < length && b[start + j] === cacheBytes[base + j]) j++;
    if (j === length) return hit;
  }
  const name = detach(s.slice(start, end));
  remember(i, name);
  return name;
}

function remember(i: number, name: string): void {
  cacheNames[i] = name;
  cacheLengths[i] = name.length;
  for (let j = 0; j < name.length; j++) cacheBytes[i * CACHE_STRIDE + j] = name.charCodeAt(j);
}

// A slice of 13+ characters is a view that would keep the whole input chunk alive from the cache;
// using it as a property key gives the internalized (copied, deduplicated) string instead.
function detach(s: string): string {
  const o: Record<string, number> = {};
  o[s] = 0;
  return Object.keys(o)[0] ?? s; // "__proto__" is no key
}

function nameHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = hashStep(h, name.charCodeAt(i));
  return h;
}

// Seeded with attribute names XMPP and QuickBlox clients send all day.
for (const name of [
  'to', 'from', 'id', 'type', 'xmlns', 'xml:lang', 'version', 'name', 'url', 'jid', 'stamp', 'mechanism', 'h', 'node',
  'ver', 'hash', 'affiliation', 'role', 'nick', 'code', 'size', 'xmlns:stream', 'subscription', 'ask', 'resume',
  'previd', 'with', 'start', 'end', 'uid', 'content-type', 'var', 'category', 'max', 'seconds', 'reason', 'status',
]) remember(slot(nameHash(name)), name);

/** Whether a code point may appear in an XML 1.0 document. */
export function isXmlChar(cp: number): boolean {
  return cp >= 0x20 ? cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff) : cp === 0x09 || cp === 0x0a || cp === 0x0d;
}

/** The text a reference s[start, end) (between '&' and ';') stands for, or null if it is not a valid one. */
function reference(s: string, start: number, end: number): string | null {
  const c = s.charCodeAt(start);
  switch (end - start) {
    case 2:
      if (s.charCodeAt(start + 1) === 0x74) return c === 0x6c ? '<' : c === 0x67 ? '>' : null; // lt, gt
      break;
    case 3:
      if (c === 0x61 && s.startsWith('amp', start)) return '&';
      break;
    case 4:
      if (c === 0x71 && s.startsWith('quot', start)) return '"';
      if (c === 0x61 && s.startsWith('apos', start)) return "'";
      break;
  }
  if (c !== 0x23) return null; // '#'
  const hex = s.charCodeAt(start + 1) === 0x78; // 'x'
  let i = hex ? start + 2 : start + 1;
  if (i === end) return null;
  let cp = 0;
  for (; i < end && cp <= 0x10ffff; i++) {
    const d = s.charCodeAt(i);
    let v: number;
    if (d >= 0x30 && d <= 0x39) v = d - 0x30;
    else if (hex && d >= 0x61 && d <= 0x66) v = d - 0x57;
    else if (hex && d >= 0x41 && d <= 0x46) v = d - 0x37;
    else return null;
    cp = cp * (hex ? 16 : 10) + v;
  }
  return isXmlChar(cp) ? String.fromCodePoint(cp) : null;
}

/**
 * Resolves references and applies XML's line-end normalization (CR LF and lone CR become LF); in
 * attribute values TAB, CR and LF become spaces too (XML 1.0 §3.3.3). Null if a reference is malformed.
 */
export function unescapeXml(s: string, attr: boolean): string | null {
  if (s.indexOf('\r') >= 0 || (attr && (s.indexOf('\n') >= 0 || s.indexOf('\t') >= 0))) return normalizeAndUnescape(s, attr);
  let amp = s.indexOf('&');
  if (amp < 0) return s;
  let out = '';
  let last = 0;
  do {
    const semi = s.indexOf(';', amp + 1);
    const text = semi < 0 ? null : reference(s, amp + 1, semi);
    if (text === null) return null;
    out += s.slice(last, amp) + text;
    last = semi + 1;
    amp = s.indexOf('&', last);
  } while (amp >= 0);
  return out + s.slice(last);
}

function normalizeAndUnescape(s: string, attr: boolean): string | null {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x26) {
      const semi = s.indexOf(';', i + 1);
      const text = semi < 0 ? null : reference(s, i + 1, semi);
      if (text === null) return null;
      out += s.slice(last, i) + text;
      i = semi;
      last = semi + 1;
    } else if (c === 0x0d) {
      out += s.slice(last, i) + (attr ? ' ' : '\n');
      if (s.charCodeAt(i + 1) === 0x0a) i++;
      last = i + 1;
    } else if (attr && (c === 0x0a || c === 0x09)) {
      out += s.slice(last, i) + ' ';
      last = i + 1;
    }
  }
  return out + s.slice(last);
}

// Byte classes for text and attribute values. A run of class-0 bytes is taken as a slice of the input;
// anything else sends the run through decodeRun.
export const STOP = 1; // ends the run: '<' for text, the closing quote for a value
export const ESCAPE = 2; // references, line ends and whitespace to normalize, characters to refuse, "]]>"
export const UTF8_2 = 3; // the lead byte of a 2-byte UTF-8 sequence (continuation bytes too: never seen first)
export const UTF8_3 = 4;
export const UTF8_4 = 5;

function byteClasses(stop: number, value: boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    if (c === stop) table[c] = STOP;
    else if (c >= 0x80) table[c] = c >= 0xf0 ? UTF8_4 : c >= 0xe0 ? UTF8_3 : UTF8_2;
    else if (c === 0x26 || (c < 0x20 && (value || (c !== 0x09 && c !== 0x0a))) || c === (value ? 0x3c : 0x5d)) table[c] = ESCAPE;
  }
  return table;
}
export const TEXT_CLASS = byteClasses(0x3c, false);
export const QUOT_VALUE_CLASS = byteClasses(0x22, true);
export const APOS_VALUE_CLASS = byteClasses(0x27, true);

// Slow-path decoding writes UTF-16 code units here in JS and turns them into a string with one native
// copy, which beats decoding UTF-8 natively and then resolving references on the result.
const SCRATCH_UNITS = 16384;
const scratchBytes = Buffer.allocUnsafeSlow(2 * SCRATCH_UNITS);
const scratch = new Uint16Array(scratchBytes.buffer, scratchBytes.byteOffset, SCRATCH_UNITS);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1; // what ucs2Slice reads

/** Why the last decodeRun returned null. */
export let decodeError = '';
/** Where the last decodeRun stopped: at the STOP byte, or at `limit` when there was none (run unfinished). */
export let decodedEnd = 0;
/** How many more bytes than UTF-16 code units the last decodeRun read (the size limit counts code units). */
export let decodedExcess = 0;

const fail = (why: string): null => ((decodeError = why), null);

/**
 * Decodes a run of text or of an attribute value from the valid UTF-8 bytes b[start, limit), up to its
 * STOP byte per `classes` (TEXT_CLASS or a *_VALUE_CLASS; b[start, from) is known to be class 0):
 * resolves references, normalizes line ends (and a value's whitespace) and refuses what XML does not
 * allow. Null on error, with decodeError saying why. Without a STOP byte the run ends at limit if
 * `final`, else it is unfinished: decodedEnd is limit and the result is to be ignored.
 */
export function decodeRun(b: Buffer, start: number, from: number, limit: number, classes: Uint8Array, final: boolean): string | null {
  // Each byte gives at most one code unit, so stopping SCRATCH_UNITS - 8 bytes in keeps writes in bounds.
  const end = Math.min(limit, start + SCRATCH_UNITS - 8);
  if (!LITTLE_ENDIAN || from >= end) return decodeLongRun(b, start, from, limit, classes, final);
  const attr = classes !== TEXT_CLASS;
  const out = scratch;
  let k = 0;
  for (let i = start; i < from; i++) out[k++] = b[i]!;
  let excess = 0;
  let i = from;
  while (i < end) {
    let c = b[i]!;
    let cls = classes[c]!;
    // Plain bytes in a tight loop; what follows handles one special byte or character per round.
    while (cls === 0) {
      out[k++] = c;
      if (++i === end) break;
      cls = classes[(c = b[i]!)]!;
    }
    if (cls === 0) break;
    if (cls === STOP) {
      decodedEnd = i;
      decodedExcess = excess;
      return scratchBytes.ucs2Slice(0, 2 * k);
    }
    if (cls === UTF8_2) {
      if (i + 1 >= limit) return cutOff(final, limit);
      c = ((c & 0x1f) << 6) | (b[++i]! & 0x3f);
      excess += 1;
    } else if (cls === UTF8_3) {
      if (i + 2 >= limit) return cutOff(final, limit);
      c = ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
      i += 2;
      excess += 2;
      if (c >= 0xfffe) return fail('character not allowed in XML');
    } else if (cls === UTF8_4) {
      if (i + 3 >= limit) return cutOff(final, limit);
      c = (((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f)) - 0x10000;
      i += 3;
      excess += 2;
      out[k++] = 0xd800 | (c >> 10);
      c = 0xdc00 | (c & 0x3ff);
    } else if (c === 0x26) {
      let semi = i + 1; // (Buffer#indexOf would be a native call per reference)
      while (semi < limit && b[semi] !== 0x3b) semi++;
      if (semi >= limit) return final ? fail('undefined or malformed entity reference') : unfinished(b, i, limit, classes);
      const cp = referencedChar(b, i + 1, semi);
      if (cp < 0) return fail('undefined or malformed entity reference');
      i = semi;
      if (cp > 0xffff) {
        out[k++] = 0xd800 | ((cp - 0x10000) >> 10);
        c = 0xdc00 | (cp & 0x3ff);
      } else c = cp;
    } else if (c === 0x0d) {
      if (b[i + 1] === 0x0a && i + 1 < limit) i++;
      c = attr ? 0x20 : 0x0a;
    } else if (c === 0x0a || c === 0x09) {
      c = 0x20; // only values get here
    } else if (c === 0x5d) {
      if (b[i + 1] === 0x5d && b[i + 2] === 0x3e && i + 2 < limit) return fail("']]>' in text");
    } else if (c === 0x3c) {
      return fail("'<' in an attribute value");
    } else return fail('character not allowed in XML');
    out[k++] = c;
    i++;
  }
  if (i < limit) return decodeLongRun(b, start, i, limit, classes, final); // longer than the scratch space
  return final ? ((decodedEnd = limit), (decodedExcess = excess), scratchBytes.ucs2Slice(0, 2 * k)) : unfinishedRun(limit);
}

/** A multi-byte character cut off by limit: the run is unfinished (in a complete token, invalid). */
const cutOff = (final: boolean, limit: number): string | null => (final ? fail('invalid UTF-8') : unfinishedRun(limit));

/** A reference without ';' before limit: an error, unless the run itself may go on in the next chunk. */
function unfinished(b: Buffer, from: number, limit: number, classes: Uint8Array): string | null {
  for (let i = from; i < limit; i++) if (classes[b[i]!] === STOP) return fail('undefined or malformed entity reference');
  return unfinishedRun(limit);
}

/** The result for a run that goes on past limit: decoded again, whole, once the rest has come. */
function unfinishedRun(limit: number): string {
  decodedEnd = limit;
  decodedExcess = 0;
  return '';
}

/** decodeRun for runs longer than the scratch space: native UTF-8 decoding, then string passes. */
function decodeLongRun(b: Buffer, start: number, from: number, limit: number, classes: Uint8Array, final: boolean): string | null {
  let end = from;
  while (end < limit && classes[b[end]!] !== STOP) end++;
  if (end === limit && !final) return unfinishedRun(limit);
  decodedEnd = end;
  const attr = classes !== TEXT_CLASS;
  const raw = b.toString('utf8', start, end);
  decodedExcess = end - start - raw.length;
  if (FORBIDDEN_CHAR.test(raw)) return fail('character not allowed in XML');
  if (!attr && raw.indexOf(']]>') >= 0) return fail("']]>' in text");
  if (attr && raw.indexOf('<') >= 0) return fail("'<' in an attribute value");
  return unescapeXml(raw, attr) ?? fail('undefined or malformed entity reference');
}

/** The code point a reference b[start, end) (between '&' and ';') stands for, or -1. */
function referencedChar(b: Buffer, start: number, end: number): number {
  const c = b[start]!;
  switch (end - start) {
    case 2:
      if (b[start + 1] === 0x74) return c === 0x6c ? 0x3c : c === 0x67 ? 0x3e : -1; // lt, gt
      break;
    case 3:
      if (c === 0x61 && b[start + 1] === 0x6d && b[start + 2] === 0x70) return 0x26; // amp
      break;
    case 4:
      if (c === 0x71 && b[start + 1] === 0x75 && b[start + 2] === 0x6f && b[start + 3] === 0x74) return 0x22; // quot
      if (c === 0x61 && b[start + 1] === 0x70 && b[start + 2] === 0x6f && b[start + 3] === 0x73) return 0x27; // apos
      break;
  }
  if (c !== 0x23) return -1; // '#'
  const hex = b[start + 1] === 0x78; // 'x'
  let i = hex ? start + 2 : start + 1;
  if (i === end) return -1;
  let cp = 0;
  for (; i < end && cp <= 0x10ffff; i++) {
    const d = b[i]!;
    let v: number;
    if (d >= 0x30 && d <= 0x39) v = d - 0x30;
    else if (hex && d >= 0x61 && d <= 0x66) v = d - 0x57;
    else if (hex && d >= 0x41 && d <= 0x46) v = d - 0x37;
    else return -1;
    cp = cp * (hex ? 16 : 10) + v;
  }
  return isXmlChar(cp) ? cp : -1;
}

/** Characters XML forbids, in decoded text (U+FFFE/U+FFFF are valid UTF-8 but not XML characters). */
export const FORBIDDEN_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;

/**
 * Where a trailing incomplete UTF-8 sequence starts in buf (buf.length if there is none). Bytes that
 * cannot start a sequence are left in place for the validator to refuse.
 */
export function utf8Cut(buf: Uint8Array): number {
  const n = buf.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return n - i < need && b >= 0xc2 && b <= 0xf4 ? i : n;
  }
  return n;
}

/** Decodes a CDATA section's bytes: UTF-8 and line ends only. Null if it holds a forbidden character. */
export function decodeCData(b: Buffer, start: number, end: number): string | null {
  const text = b.toString('utf8', start, end);
  decodedExcess = end - start - text.length;
  if (FORBIDDEN_CHAR.test(text)) return fail('character not allowed in XML');
  return text.indexOf('\r') < 0 ? text : text.replace(/\r\n?/g, '\n');
}

/** The length of the sequence a UTF-8 lead byte starts. */
export const utf8Length = (lead: number): number => (lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2);

/** How many more bytes than UTF-16 code units buf holds (continuation bytes, less one per surrogate pair). */
export function utf16Excess(buf: Uint8Array): number {
  let excess = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) excess++;
    else if (b >= 0xf0) excess--;
  }
  return excess;
}
