// Streaming parser for XMPP's restricted XML (RFC 6120 §11) on top of saxes.
// It turns bytes into stream-level events: the stream header, one Element per top-level child
// (stanza or nonza), and the stream end. In "framed" mode (RFC 7395 WebSocket) every frame holds one
// complete element and <open/>/<close/> take the place of the stream header and footer.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { Element } from './element.js';

export const NS_STREAM = 'http://etherx.jabber.org/streams';
export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

export interface ParserLimits {
  maxStanzaSize: number; // characters of one top-level element
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

// In framed mode every frame element is parsed as a child of this synthetic root, so that the
// stream of frames is one well-formed document and a stanza without xmlns means jabber:client.
const FRAMED_ROOT = '<frames xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams">';

export class StreamParser {
  private sax!: SaxesParser<{ xmlns: true; position: true }>;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private depth = 0; // 0 = outside the stream root, 1 = between top-level elements
  private current: Element | null = null;
  /** Where the last top-level element (or the stream header) ended: what follows counts against the size limit. */
  private boundary = 0;
  private failed = false;
  private offset = 0;
  private writing = false;

  constructor(
    private readonly handler: StreamHandler,
    private readonly limits: ParserLimits = DEFAULT_LIMITS,
    readonly framed = false,
  ) {
    this.reset();
  }

  /** Starts a fresh document, as RFC 6120 requires after STARTTLS and SASL success. */
  reset(): void {
    const sax = new FastSax();
    this.sax = sax;
    this.offset = 0;
    const live = (): void => { if (sax !== this.sax || this.failed) throw ABORT; };
    this.depth = 0;
    this.current = null;
    this.boundary = 0;
    sax.on('opentag', (tag) => (live(), this.onOpen(tag)));
    sax.on('closetag', (tag) => (live(), this.onClose(tag)));
    sax.on('text', (text) => (live(), this.onText(text)));
    sax.on('cdata', (text) => (live(), this.onText(text)));
    this.sax.on('doctype', () => this.fail('restricted-xml', 'DTDs are not allowed in XMPP'));
    this.sax.on('processinginstruction', () => this.fail('restricted-xml', 'processing instructions are not allowed in XMPP'));
    this.sax.on('comment', () => this.fail('restricted-xml', 'comments are not allowed in XMPP'));
    this.sax.on('error', (err) => this.fail('not-well-formed', err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '')));
    if (this.framed) {
      this.sax.write(FRAMED_ROOT);
      this.offset = FRAMED_ROOT.length;
    }
  }

  write(chunk: Buffer | string): void {
    if (this.failed) return;
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else {
      try {
        text = this.decoder.decode(chunk, { stream: true });
      } catch {
        this.fail('not-well-formed', 'invalid UTF-8');
        return;
      }
    }
    const sax = this.sax;
    this.writing = true;
    try {
      sax.write(text);
    } catch (err) {
      if (err === ABORT) return;
      // A handler threw or saxes refused input after an error; either way this stream is done.
      this.fail('not-well-formed', err instanceof Error ? err.message : String(err));
      return;
    } finally {
      this.writing = false;
    }
    if (sax !== this.sax) return;
    this.offset += text.length;
    if (this.offset - this.boundary > this.limits.maxStanzaSize) {
      // Also catches an unterminated start tag or text outside stanzas, which saxes would buffer forever.
      this.fail('policy-violation', `stanza exceeds ${this.limits.maxStanzaSize} characters`);
    }
  }

  /** Stops processing input; later writes are ignored. */
  stop(): void {
    this.failed = true;
  }

  private fail(condition: ParseErrorCondition, text: string): void {
    if (this.failed) return;
    this.failed = true;
    this.current = null;
    this.handler.parseError(condition, text);
    if (this.writing) throw ABORT;
  }

  private onOpen(tag: SaxesTagNS): void {
    if (this.failed) return;
    const depth = this.depth++;
    if (depth === 0 && this.framed) {
      this.boundary = this.sax.position; // the synthetic root
      return;
    }
    const el = toElement(tag, this.limits.maxAttributes);
    if (!el) {
      this.fail('policy-violation', `more than ${this.limits.maxAttributes} attributes on <${tag.name}>`);
      return;
    }
    if (depth === 0) {
      this.boundary = this.sax.position;
      this.handler.streamStart(el, tag.uri);
      return;
    }
    if (depth - 1 > this.limits.maxDepth) {
      this.fail('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`);
      return;
    }
    if (depth === 1) {
      // Keep the namespace the element was parsed in, so it can be routed to another stream intact.
      if (el.attrs.xmlns === undefined && tag.uri && !tag.prefix) el.attrs.xmlns = tag.uri;
      else if (tag.prefix && el.attrs[`xmlns:${tag.prefix}`] === undefined && tag.uri) el.attrs[`xmlns:${tag.prefix}`] = tag.uri;
      for (const a of Object.values(tag.attributes)) if (a.prefix && a.prefix !== 'xml' && a.prefix !== 'xmlns' && el.attrs[`xmlns:${a.prefix}`] === undefined) el.attrs[`xmlns:${a.prefix}`] = a.uri;
      this.current = el;
    } else if (this.current) {
      let root = this.current;
      while (root.parent) root = root.parent;
      const names = [tag.prefix, ...Object.values(tag.attributes).map((a) => a.prefix)];
      for (const prefix of names) {
        if (!prefix || prefix === 'xml' || prefix === 'xmlns') continue;
        const key = `xmlns:${prefix}`;
        let declared = el.attrs[key] !== undefined;
        for (let e: Element | null = this.current; e && !declared; e = e.parent) declared = e.attrs[key] !== undefined;
        const uri = prefix === tag.prefix ? tag.uri : tag.attributes[Object.keys(tag.attributes).find((k) => tag.attributes[k]!.prefix === prefix)!]!.uri;
        if (!declared && uri) root.attrs[key] = uri;
      }
      this.current.append(el);
      this.current = el;
    }
  }

  private onClose(tag: SaxesTagNS): void {
    if (this.failed) return;
    const depth = --this.depth;
    if (depth === 0) {
      if (!this.framed) this.handler.streamEnd();
      return;
    }
    const el = this.current;
    if (!el) return;
    if (depth === 1) {
      this.current = null;
      if (this.sax.position - this.boundary > this.limits.maxStanzaSize) {
        this.fail('policy-violation', `stanza exceeds ${this.limits.maxStanzaSize} characters`);
        return;
      }
      this.boundary = this.sax.position;
      if (this.framed && tag.uri === NS_FRAMING) {
        if (tag.local === 'open') this.handler.streamStart(el, NS_FRAMING);
        else if (tag.local === 'close') this.handler.streamEnd();
        else this.fail('bad-format', `unknown framing element <${tag.local}>`);
        return;
      }
      el.parent = null;
      this.handler.element(el);
    } else {
      this.current = el.parent;
    }
  }

  private onText(text: string): void {
    if (this.failed) return;
    if (this.current) {
      this.current.children.push(text);
    } else if (this.depth >= 1) {
      if (!isWhitespace(text)) return this.fail('bad-format', 'text outside of a stanza');
      // Whitespace keep-alives between stanzas do not count towards the next stanza's size. (saxes reports
      // this text only when the next tag begins, so a stream of nothing but whitespace still hits the limit.)
      this.boundary = this.sax.position;
    }
  }
}

function isWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

const ABORT = Symbol('abort');

// saxes' on() adds each handler with a keyed store; past six of them V8 turns the parser into a
// dictionary-mode object and every field access in its hot loop slows down ~3x. Creating the
// handler slots up front with named stores keeps it in fast mode.
class FastSax extends SaxesParser<{ xmlns: true; position: true }> {
  constructor() {
    super({ xmlns: true, position: true });
    const self = this as unknown as Record<string, unknown>;
    self.textHandler = self.cdataHandler = self.openTagHandler = self.closeTagHandler = undefined;
    self.doctypeHandler = self.commentHandler = self.piHandler = self.errorHandler = undefined;
  }
}

/** The element for a start tag, or null when it has more than `maxAttributes` attributes. */
function toElement(tag: SaxesTagNS, maxAttributes: number): Element | null {
  const attrs: Record<string, string> = {};
  let count = 0;
  for (const name in tag.attributes) {
    if (++count > maxAttributes) return null;
    attrs[name] = tag.attributes[name]!.value;
  }
  return new Element(tag.name, attrs);
}

/** Parses one complete element from a string (e.g. a stanza kept in storage); null if it is not one. */
export function parseElement(text: string): Element | null {
  let out: Element | null = null;
  let count = 0;
  const noop = (): void => {};
  const parser = new StreamParser(
    { streamStart: noop, element: (el) => ((out = el), count++), streamEnd: noop, parseError: () => (count = 99) },
    { maxStanzaSize: Number.MAX_SAFE_INTEGER, maxDepth: 1000, maxAttributes: 10_000 },
    true,
  );
  parser.write(text);
  parser.write('</frames>');
  return count === 1 ? out : null;
}
