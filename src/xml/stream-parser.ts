// Streaming parser for XMPP's restricted XML (RFC 6120 §11).
// It turns bytes into stream-level events: the stream header, one Element per top-level child
// (stanza or nonza), and the stream end. In "framed" mode (RFC 7395 WebSocket) every frame holds one
// complete element and <open/>/<close/> take the place of the stream header and footer.
//
// How it is fast: loops read the chunk's bytes (typed-array loads), and names, values and text are
// sliced from a latin1 view of the same bytes (one char per byte, so indexes agree and all markup is
// ASCII). One pass of byte-class lookups finds where each name, value or text ends and whether it needs
// more than a slice: only values and text with '&', control characters, ']' or non-ASCII bytes are
// decoded, in one more JS pass (UTF-8, references, normalization, checks; see decodeRun). Attribute
// names come from an intern cache; end tags are compared with the start tag's bytes. A token cut off by
// the end of a chunk is kept as bytes; later chunks are only scanned for its end, then it is parsed once,
// whole, so a stanza trickling in byte by byte costs linear time.
import { isUtf8 } from 'node:buffer';
import { Element, type Attrs } from './element.js';
import {
  decodeCData,
  decodedEnd,
  decodedExcess,
  decodeError,
  decodeRun,
  TEXT_CLASS,
  QUOT_VALUE_CLASS,
  APOS_VALUE_CLASS,
  STOP,
  hashStep,
  internName,
  isSpace,
  isUnicodeName,
  NAME_CLASS,
  NAME_COLON,
  NAME_HIGH,
  NAME_START,
  prefixEnd,
  utf16Excess,
  utf8Cut,
  utf8Length,
} from './chars.js';

export const NS_STREAM = 'http://etherx.jabber.org/streams';
export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const NS_XML = 'http://www.w3.org/XML/1998/namespace';

export interface ParserLimits {
  maxStanzaSize: number; // characters (UTF-16 code units) of one top-level element
  maxDepth: number; // nesting inside a top-level element
  maxAttributes: number; // per element
}

export const DEFAULT_LIMITS: ParserLimits = { maxStanzaSize: 65536, maxDepth: 32, maxAttributes: 64 };

export type ParseErrorCondition = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'bad-format';

export interface StreamHandler {
  /** The stream header (<stream:stream> or <open/>); `name` is its local name, `ns` its namespace. */
  streamStart(header: Element, ns: string | undefined): void;
  element(el: Element): void;
  streamEnd(): void;
  parseError(condition: ParseErrorCondition, text: string): void;
}

// In framed mode frames are parsed as children of an implicit root with these declarations, so a
// stanza without xmlns means jabber:client.
const FRAMED_SCOPE: Attrs = { xmlns: 'jabber:client', 'xmlns:stream': NS_STREAM };

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const QUOT = 0x22;
const APOS = 0x27;
const RSQB = 0x5d;

// What kind of token was cut off by the end of the input.
const NONE = 0;
const TEXT = 1;
const START_TAG = 2;
const END_TAG = 3;
const CDATA = 4;
const XML_DECL = 5;
const UNKNOWN = 6; // too short to tell ("<", "<!", "<![CDA"...): reparsed together with the next chunk

const ABORT = Symbol('abort');
const BOM = '\xef\xbb\xbf'; // U+FEFF in UTF-8, as latin1

// The first attribute names of the tag being parsed: comparing a few strings finds duplicates faster
// than probing the attribute object, whose shape differs from tag to tag.
const SEEN = 8;
const seen: string[] = new Array<string>(SEEN).fill('');

const EMPTY = Buffer.alloc(0);

export class StreamParser {
  private failed = false;
  private writing = false;
  /** reset() or stop() ran from a handler: the rest of the current chunk belongs to no document. */
  private interrupted = false;

  // The document.
  private depth = 0; // open elements, the stream root included (in framed mode the implicit root)
  private ended = false; // the stream root has been closed
  private documentStart = 0; // where the document begins: after a byte order mark, if any
  private rootName = '';
  // Where the open elements' names (the stream root's included) are in the input, so that end tags can be
  // checked byte for byte: their offset and length in the buffer of parse() call number `openIn`.
  private openStart: Int32Array = new Int32Array(64);
  private openLength: Int32Array = new Int32Array(64);
  private openIn: Int32Array = new Int32Array(64);
  private openCount = 0;
  private generation = 0; // counts parse() calls
  private scope: Attrs = FRAMED_SCOPE; // namespace declarations in force at the top level
  private stanza: Element | null = null; // the top-level element being built
  private current: Element | null = null; // the innermost open element inside it

  // Positions are byte offsets from the document start. The size limit counts UTF-16 code units, so
  // `excess` adds up how many more bytes than code units the decoded input had.
  private received = 0;
  private excess = 0;
  private boundary = 0; // code unit where the current top-level element started, or the last one ended

  // The input being parsed: `bytes`, seen as a latin1 string s whose s[0] is at stream offset `base`.
  private bytes: Buffer = EMPTY;
  private base = 0;

  // The token cut off at the end of the input, kept as bytes until a chunk brings its end.
  private pending = NONE;
  private pendingState = 0; // open quote of a start tag; run of ']' or '?' before the closing '>'
  private pendingStart = 0;
  private pieces: Buffer[] = [];
  private piecesExcess = 0; // utf16Excess of pieces[0, piecesCounted), computed only near the size limit
  private piecesCounted = 0;
  private needKind = NONE;

  private carry: Buffer | null = null; // an incomplete UTF-8 sequence at the end of the last chunk

  constructor(
    private readonly handler: StreamHandler,
    private readonly limits: ParserLimits = DEFAULT_LIMITS,
    readonly framed = false,
  ) {
    this.reset();
  }

  /** Starts a fresh document, as RFC 6120 requires after STARTTLS and SASL success. */
  reset(): void {
    if (this.writing) this.interrupted = true;
    this.depth = this.framed ? 1 : 0;
    this.ended = false;
    this.documentStart = 0;
    this.rootName = '';
    this.openCount = 0;
    this.scope = FRAMED_SCOPE;
    this.stanza = this.current = null;
    this.received = this.excess = this.boundary = 0;
    this.clearPending();
    this.carry = null;
  }

  /** Stops processing input; later writes are ignored. */
  stop(): void {
    this.failed = true;
    if (this.writing) this.interrupted = true;
  }

  /** True when everything written so far was complete: no unfinished element or token. */
  get idle(): boolean {
    return !this.failed && this.pending === NONE && this.current === null;
  }

  write(chunk: Buffer | string): void {
    if (this.failed) return;
    let bytes: Buffer;
    if (typeof chunk === 'string') {
      if (!chunk.isWellFormed()) return this.fail('not-well-formed', 'unpaired surrogate');
      bytes = Buffer.from(chunk, 'utf8');
    } else bytes = chunk;
    if (bytes.length === 0) return;
    if (!this.validUtf8(bytes)) return this.fail('not-well-formed', 'invalid UTF-8');
    this.writing = true;
    this.interrupted = false;
    try {
      this.feed(bytes);
      this.checkSize();
    } catch (err) {
      this.writing = false;
      // A handler threw: the stream cannot continue in a known state.
      if (err !== ABORT) this.fail('not-well-formed', err instanceof Error ? err.message : String(err));
    } finally {
      this.writing = false;
    }
  }

  private fail(condition: ParseErrorCondition, text: string): void {
    if (this.failed) return;
    this.failed = true;
    this.current = this.stanza = null;
    this.clearPending();
    this.handler.parseError(condition, text);
  }

  /** Reports the error and unwinds to write(). */
  private abort(condition: ParseErrorCondition, text: string): never {
    this.fail(condition, text);
    throw ABORT;
  }

  /** After a handler call: stop if the handler reset or stopped the parser. */
  private checkInterrupted(): void {
    if (this.interrupted) throw ABORT;
  }

  /** Validates UTF-8 across chunk boundaries, keeping an incomplete trailing sequence for the next chunk. */
  private validUtf8(bytes: Buffer): boolean {
    let start = 0;
    const carry = this.carry;
    if (carry) {
      const missing = utf8Length(carry[0]!) - carry.length;
      if (bytes.length < missing) {
        for (const b of bytes) if ((b & 0xc0) !== 0x80) return false;
        this.carry = Buffer.concat([carry, bytes]);
        return true;
      }
      if (!isUtf8(Buffer.concat([carry, bytes.subarray(0, missing)]))) return false;
      this.carry = null;
      start = missing;
    }
    const cut = Math.max(start, utf8Cut(bytes));
    if (!isUtf8(start === 0 && cut === bytes.length ? bytes : bytes.subarray(start, cut))) return false;
    if (cut < bytes.length) this.carry = Buffer.from(bytes.subarray(cut));
    return true;
  }

  private feed(bytes: Buffer): void {
    const s = bytes.latin1Slice(0, bytes.length);
    const base = this.received;
    this.received += bytes.length;
    let from = 0;
    if (this.pending !== NONE) {
      const end = this.pendingEnd(s);
      if (end < 0) {
        this.pieces.push(Buffer.from(bytes));
        return;
      }
      const start = this.pendingStart;
      if (this.pending === UNKNOWN) {
        const joined = Buffer.concat([...this.pieces, bytes]);
        this.clearPending();
        this.parse(joined, joined.latin1Slice(0, joined.length), start, 0, false);
        return;
      }
      const token = Buffer.concat([...this.pieces, bytes.subarray(0, end)]);
      this.clearPending();
      this.parse(token, token.latin1Slice(0, token.length), start, 0, true);
      from = end;
    }
    this.parse(bytes, s, base, from, false);
  }

  private clearPending(): void {
    this.pending = this.pendingState = 0;
    this.pieces = [];
    this.piecesExcess = this.piecesCounted = 0;
  }

  /** Refuses input past the size limit: an unfinished stanza, or whatever precedes the next one. */
  private checkSize(): void {
    const max = this.limits.maxStanzaSize;
    let units = this.received - this.excess;
    if (units - this.boundary <= max) return;
    // Cut-off bytes have not been decoded yet: count their code units exactly before refusing.
    for (; this.piecesCounted < this.pieces.length; this.piecesCounted++) this.piecesExcess += utf16Excess(this.pieces[this.piecesCounted]!);
    units -= this.piecesExcess;
    if (units - this.boundary > max) this.abort('policy-violation', `stanza exceeds ${max} characters`);
  }

  /**
   * Parses s (the latin1 view of bytes, at stream offset base) from i. With `final`, s is exactly one
   * token that was cut off before, so running out of input is an error rather than a reason to wait.
   */
  private parse(bytes: Buffer, s: string, base: number, i: number, final: boolean): void {
    this.bytes = bytes;
    this.base = base;
    this.generation++;
    const n = s.length;
    // Loops read bytes from the Buffer: a typed array load is cheaper than charCodeAt, which has to
    // dispatch on the string's representation; the latin1 string s is used for slicing.
    const b = bytes;
    while (i < n) {
      if (b[i] !== LT) {
        const el = this.current;
        if (el === null) {
          // Between stanzas, or outside the stream root: whitespace only, consumed as it comes.
          let end = s.indexOf('<', i);
          if (end < 0) end = n;
          this.outsideText(s, i, end);
          i = end;
        } else {
          let end = i;
          let k = 0;
          while (end < n && (k = TEXT_CLASS[b[end]!]!) === 0) end++;
          let text: string | null = null;
          if (k !== 0 && k !== STOP) {
            text = this.decode(i, end, n, TEXT_CLASS, final);
            end = decodedEnd;
          }
          if (end === n && !final) {
            this.needKind = TEXT;
            return this.suspend(s, i);
          }
          append(el, text ?? s.slice(i, end));
          i = end;
        }
        if (i === n) return;
      }
      const end = this.markup(s, b, i);
      if (end < 0) {
        if (final) this.abort('not-well-formed', 'unterminated markup');
        return this.suspend(s, i);
      }
      i = end;
    }
  }

  /** Keeps s[at...] (an unfinished token of kind needKind) for the next chunk. */
  private suspend(s: string, at: number): void {
    const kind = this.needKind;
    this.pending = kind;
    this.pendingStart = this.base + at;
    this.pieces = [Buffer.from(this.bytes.subarray(at))];
    let state = 0;
    if (kind === START_TAG) {
      for (let i = at + 1; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (state !== 0) state = c === state ? 0 : state;
        else if (c === QUOT || c === APOS) state = c;
      }
    } else if (kind === CDATA || kind === XML_DECL) {
      const run = kind === CDATA ? RSQB : QUESTION;
      for (let i = s.length - 1; i >= at && s.charCodeAt(i) === run; i--) state++;
    }
    this.pendingState = state;
  }

  /** Where the pending token ends in a new chunk s (exclusive), or -1 if not in this chunk. */
  private pendingEnd(s: string): number {
    switch (this.pending) {
      case TEXT:
        return s.indexOf('<');
      case END_TAG: {
        const gt = s.indexOf('>');
        return gt < 0 ? -1 : gt + 1;
      }
      case START_TAG:
        return this.startTagEnd(s);
      case CDATA:
        return this.closerEnd(s, RSQB, 2);
      case XML_DECL:
        return this.closerEnd(s, QUESTION, 1);
      default:
        return 0;
    }
  }

  /** The '>' ending a start tag, skipping quoted values; a '<' ends it too (as an error, found when parsed). */
  private startTagEnd(s: string): number {
    let quote = this.pendingState;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === LT) return i;
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === GT) return i + 1;
      else if (c === QUOT || c === APOS) quote = c;
    }
    this.pendingState = quote;
    return -1;
  }

  /** The '>' after `need` repetitions of `run` ("]]>", "?>"), continuing the run the last chunk ended with. */
  private closerEnd(s: string, run: number, need: number): number {
    let count = this.pendingState;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === GT && count >= need) return i + 1;
      count = c === run ? count + 1 : 0;
    }
    this.pendingState = count;
    return -1;
  }

  /** Marks the token as cut off by the end of the input. */
  private more(kind: number): number {
    this.needKind = kind;
    return -1;
  }

  /** Parses the markup at s[lt] === '<'; returns where it ends, or -1 if the input ends first. */
  private markup(s: string, b: Buffer, lt: number): number {
    if (lt + 1 >= s.length) return this.more(UNKNOWN);
    const c = b[lt + 1];
    if (c === SLASH) return this.endTag(s, b, lt);
    if (c === BANG) return this.declaration(s, lt);
    if (c === QUESTION) return this.processingInstruction(s, lt);
    return this.startTag(s, b, lt);
  }

  /** A name with non-ASCII characters, decoded and checked. */
  private unicodeName(start: number, end: number): string {
    const name = this.bytes.utf8Slice(start, end);
    this.excess += end - start - name.length;
    if (!isUnicodeName(name)) this.abort('not-well-formed', `invalid name "${name}"`);
    return name;
  }

  // Names are scanned inline below (hash and class flags in locals): a call per name costs more. Element
  // names are sliced; attribute names are interned, since a property key that is already an internalized
  // string makes the store into the attribute object cheaper (measured both ways).
  private startTag(s: string, b: Buffer, lt: number): number {
    const n = s.length;
    let i = lt + 1;
    let c = b[i]!;
    let flags = NAME_CLASS[c]!;
    if ((flags & NAME_START) === 0) this.abort('not-well-formed', 'invalid element name');
    for (i++; i < n; i++) {
      const k = NAME_CLASS[b[i]!]!;
      if (k === 0) break;
      flags |= k;
    }
    if (i >= n) return this.more(START_TAG);
    const nameEnd = i;
    let prefixed = flags & NAME_COLON;
    const name = flags & NAME_HIGH ? this.unicodeName(lt + 1, i) : s.slice(lt + 1, i);
    const attrs: Attrs = {};
    let count = 0;
    let selfClosing = false;
    for (;;) {
      const space = i;
      while (i < n && isSpace(b[i]!)) i++;
      if (i >= n) return this.more(START_TAG);
      c = b[i]!;
      if (c === GT) {
        i++;
        break;
      }
      if (c === SLASH) {
        if (i + 1 >= n) return this.more(START_TAG);
        if (b[i + 1] !== GT) this.abort('not-well-formed', "expected '>' after '/'");
        i += 2;
        selfClosing = true;
        break;
      }
      if (i === space) this.abort('not-well-formed', 'attributes must be separated by whitespace');
      const keyStart = i;
      let h = c;
      flags = NAME_CLASS[c]!;
      if ((flags & NAME_START) === 0) this.abort('not-well-formed', `invalid attribute name in <${name}>`);
      for (i++; i < n; i++) {
        const k = NAME_CLASS[(c = b[i]!)]!;
        if (k === 0) break;
        h = hashStep(h, c);
        flags |= k;
      }
      if (i >= n) return this.more(START_TAG);
      prefixed |= flags & NAME_COLON;
      const key = flags & NAME_HIGH ? this.unicodeName(keyStart, i) : internName(b, s, keyStart, i, h);
      while (i < n && isSpace(b[i]!)) i++;
      if (i + 1 >= n) return this.more(START_TAG);
      if (b[i] !== EQUALS) this.abort('not-well-formed', `expected '=' after ${key}`);
      i++;
      while (i < n && isSpace(b[i]!)) i++;
      if (i >= n) return this.more(START_TAG);
      const quote = b[i];
      if (quote !== QUOT && quote !== APOS) this.abort('not-well-formed', `unquoted value for ${key}`);
      const classes = quote === QUOT ? QUOT_VALUE_CLASS : APOS_VALUE_CLASS;
      const start = ++i;
      let k = 0;
      while (i < n && (k = classes[b[i]!]!) === 0) i++;
      let value: string;
      if (k === STOP) value = s.slice(start, i);
      else if (k === 0) return this.more(START_TAG);
      else {
        value = this.decode(start, i, n, classes, false);
        i = decodedEnd;
        if (i >= n) return this.more(START_TAG);
      }
      i++;
      if (count < SEEN) {
        for (let j = 0; j < count; j++) if (seen[j] === key) this.abort('not-well-formed', `duplicate attribute ${key}`);
        seen[count] = key;
      } else if (attrs[key] !== undefined && Object.hasOwn(attrs, key)) this.abort('not-well-formed', `duplicate attribute ${key}`);
      if (++count > this.limits.maxAttributes) this.abort('policy-violation', `more than ${this.limits.maxAttributes} attributes on <${name}>`);
      if (key !== '__proto__') attrs[key] = value;
      else Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
    }
    const el = new Element(name, attrs);
    if (!selfClosing) this.pushName(lt + 1, nameEnd);
    const depth = this.depth;
    if (depth >= 2) {
      if (depth - 1 > this.limits.maxDepth) this.abort('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`);
      const parent = this.current!;
      el.parent = parent;
      append(parent, el);
      if (prefixed) this.bindPrefixes(el);
      if (!selfClosing) {
        this.current = el;
        this.depth = depth + 1;
      }
    } else if (depth === 1) {
      this.openStanza(el, prefixed !== 0, lt);
      if (selfClosing) this.closeStanza(el, i);
    } else {
      this.openRoot(el, prefixed !== 0, i, selfClosing);
    }
    return i;
  }

  private openRoot(el: Element, prefixed: boolean, end: number, selfClosing: boolean): void {
    if (this.ended) this.abort('not-well-formed', 'a document has only one root element');
    this.scope = { ...el.attrs };
    if (prefixed) this.bindPrefixes(el);
    const colon = el.name.indexOf(':');
    const ns = colon < 0 ? el.attrs.xmlns : el.attrs[`xmlns:${el.name.slice(0, colon)}`];
    this.rootName = el.name;
    this.depth = 1;
    this.boundary = this.base + end - this.excess;
    this.handler.streamStart(el, ns);
    this.checkInterrupted();
    if (selfClosing) this.closeRoot();
  }

  private closeRoot(): void {
    this.depth = 0;
    this.ended = true;
    this.handler.streamEnd();
    this.checkInterrupted();
  }

  private openStanza(el: Element, prefixed: boolean, lt: number): void {
    this.boundary = this.base + lt - this.excess;
    this.stanza = this.current = el;
    this.depth = 2;
    // Keep the namespace the element was parsed in, so it can be routed to another stream intact.
    if (el.attrs.xmlns === undefined && el.name.indexOf(':') < 0) {
      const ns = this.scope.xmlns;
      if (ns) el.attrs.xmlns = ns;
    }
    if (prefixed) this.bindPrefixes(el);
  }

  private closeStanza(el: Element, end: number): void {
    this.stanza = this.current = null;
    this.depth = 1;
    const position = this.base + end - this.excess;
    if (position - this.boundary > this.limits.maxStanzaSize) this.abort('policy-violation', `stanza exceeds ${this.limits.maxStanzaSize} characters`);
    this.boundary = position;
    if (this.framed && el.namespace() === NS_FRAMING) {
      const local = el.localName;
      if (local === 'open') this.handler.streamStart(el, NS_FRAMING);
      else if (local === 'close') this.handler.streamEnd();
      else this.abort('bad-format', `unknown framing element <${local}>`);
    } else {
      this.handler.element(el);
    }
    this.checkInterrupted();
  }

  /**
   * Checks the prefixes el and its attributes use, and makes the stanza self-contained: a prefix
   * declared only on the stream header gets its declaration copied onto the top-level element.
   */
  private bindPrefixes(el: Element): void {
    if (el.name.indexOf(':') >= 0) {
      const colon = prefixEnd(el.name);
      if (colon < 0 || el.name.startsWith('xmlns:')) this.abort('not-well-formed', `invalid element name "${el.name}"`);
      this.bind(el, el.name.slice(0, colon));
    }
    for (const key of Object.keys(el.attrs)) {
      if (key.indexOf(':') < 0) continue;
      const colon = prefixEnd(key);
      if (colon < 0) this.abort('not-well-formed', `invalid attribute name "${key}"`);
      const prefix = key.slice(0, colon);
      if (prefix === 'xmlns') {
        const local = key.slice(colon + 1);
        const uri = el.attrs[key];
        if (uri === '' || local === 'xmlns' || (local === 'xml') !== (uri === NS_XML)) this.abort('not-well-formed', `invalid namespace declaration ${key}`);
      } else this.bind(el, prefix);
    }
  }

  private bind(el: Element, prefix: string): void {
    if (prefix === 'xml') return;
    const key = `xmlns:${prefix}`;
    for (let e: Element | null = el; e; e = e.parent) if (e.attrs[key] !== undefined) return;
    const uri = this.stanza ? this.scope[key] : undefined;
    if (uri === undefined) this.abort('not-well-formed', `unbound namespace prefix "${prefix}"`);
    this.stanza!.attrs[key] = uri;
  }

  private pushName(start: number, end: number): void {
    const top = this.openCount++;
    if (top === this.openStart.length) {
      this.openStart = grow(this.openStart);
      this.openLength = grow(this.openLength);
      this.openIn = grow(this.openIn);
    }
    this.openStart[top] = start;
    this.openLength[top] = end - start;
    this.openIn[top] = this.generation;
  }

  private endTag(s: string, b: Buffer, lt: number): number {
    const el = this.current;
    const top = this.openCount - 1;
    if (top < 0 || (el === null && (this.depth !== 1 || this.framed))) this.abort('not-well-formed', 'unexpected end tag');
    // Usually the start tag is in the same buffer, and "</name>" follows it byte for byte.
    const start = lt + 2;
    const length = this.openLength[top]!;
    let end = -1;
    if (this.openIn[top] === this.generation && start + length < s.length) {
      const from = this.openStart[top]!;
      let j = 0;
      while (j < length && b[start + j] === b[from + j]) j++;
      if (j === length && b[start + length] === GT) end = start + length + 1;
    }
    if (end < 0) {
      const gt = s.indexOf('>', start);
      if (gt < 0) return this.more(END_TAG);
      const open = el ? el.name : this.rootName;
      if (this.endTagName(s, b, start, gt) !== open) this.abort('not-well-formed', `</${open}> expected`);
      end = gt + 1;
    }
    this.openCount = top;
    if (el === null) this.closeRoot();
    else if (this.depth === 2) this.closeStanza(el, end);
    else {
      this.current = el.parent;
      this.depth--;
    }
    return end;
  }

  /** The name in an end tag s[start, gt), allowing whitespace before '>'; null if malformed. */
  private endTagName(s: string, b: Buffer, start: number, gt: number): string | null {
    let end = start;
    let flags = 0;
    while (end < gt && NAME_CLASS[b[end]!] !== 0) flags |= NAME_CLASS[b[end++]!]!;
    if (end === start) return null;
    for (let i = end; i < gt; i++) if (!isSpace(b[i]!)) return null;
    return flags & NAME_HIGH ? b.utf8Slice(start, end) : s.slice(start, end);
  }

  /** "<!": CDATA sections are text; comments and DTDs are refused. */
  private declaration(s: string, lt: number): number {
    const n = s.length;
    if (lt + 2 >= n) return this.more(UNKNOWN);
    const c = s.charCodeAt(lt + 2);
    if (c === 0x2d) this.abort('restricted-xml', 'comments are not allowed in XMPP');
    if (c === 0x44) this.abort('restricted-xml', 'DTDs are not allowed in XMPP');
    const open = '<![CDATA[';
    for (let k = 2; k < open.length; k++) {
      if (lt + k >= n) return this.more(UNKNOWN);
      if (s.charCodeAt(lt + k) !== open.charCodeAt(k)) this.abort('not-well-formed', "unexpected '<!'");
    }
    const close = s.indexOf(']]>', lt + open.length);
    if (close < 0) return this.more(CDATA);
    this.cdata(s, lt + open.length, close);
    return close + 3;
  }

  /** "<?": only the XML declaration, at the very start of a stream. */
  private processingInstruction(s: string, lt: number): number {
    const n = s.length;
    const open = '<?xml';
    for (let k = 2; k < open.length; k++) {
      if (lt + k >= n) return this.more(UNKNOWN);
      if (s.charCodeAt(lt + k) !== open.charCodeAt(k)) this.abort('restricted-xml', 'processing instructions are not allowed in XMPP');
    }
    if (lt + 5 >= n) return this.more(UNKNOWN);
    if (!isSpace(s.charCodeAt(lt + 5))) this.abort('restricted-xml', 'processing instructions are not allowed in XMPP');
    if (this.framed || this.base + lt !== this.documentStart) this.abort('not-well-formed', 'the XML declaration is only allowed at the start of the stream');
    const close = s.indexOf('?>', lt + 6);
    if (close < 0) return this.more(XML_DECL);
    return close + 2;
  }

  /** Text between stanzas, or before/after the stream root: only whitespace. */
  private outsideText(s: string, start: number, end: number): void {
    let i = start;
    // A byte order mark may open the document (XML 1.0 §4.3.3; the TextDecoder used before dropped it).
    if (this.base + start === 0 && s.startsWith(BOM, start)) this.documentStart = i += BOM.length;
    for (; i < end; i++) {
      if (!isSpace(s.charCodeAt(i))) {
        if (this.depth === 1) this.abort('bad-format', 'text outside of a stanza');
        this.abort('not-well-formed', 'text outside of the stream root');
      }
    }
  }

  private cdata(s: string, start: number, end: number): void {
    const el = this.current;
    if (el === null) return this.outsideText(s, start, end);
    const text = decodeCData(this.bytes, start, end);
    if (text === null) this.abort('not-well-formed', decodeError);
    this.excess += decodedExcess;
    append(el, text);
  }

  /** Text or an attribute value that needs more than a slice, from start to its STOP byte (see decodeRun). */
  private decode(start: number, from: number, limit: number, classes: Uint8Array, final: boolean): string {
    const text = decodeRun(this.bytes, start, from, limit, classes, final);
    if (text === null) this.abort('not-well-formed', decodeError);
    this.excess += decodedExcess;
    return text;
  }
}

function grow(a: Int32Array): Int32Array {
  const bigger = new Int32Array(2 * a.length);
  bigger.set(a);
  return bigger;
}

/** Adds a parsed child. Most elements get one; a literal holds it exactly, where push() would reserve 17 slots. */
function append(el: Element, child: Element | string): void {
  if (el.children.length === 0) el.children = [child];
  else el.children.push(child);
}

/** Parses one complete element from a string (e.g. a stanza kept in storage); null if it is not one. */
export function parseElement(text: string): Element | null {
  let out: Element | null = null;
  let count = 0;
  const noop = (): void => {};
  const parser = new StreamParser(
    { streamStart: () => (count = 99), element: (el) => ((out = el), count++), streamEnd: noop, parseError: () => (count = 99) },
    { maxStanzaSize: Number.MAX_SAFE_INTEGER, maxDepth: 1000, maxAttributes: 10_000 },
    true,
  );
  parser.write(text);
  return count === 1 && parser.idle ? out : null;
}
