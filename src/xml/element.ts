// A small XML element tree: the unit the parser produces, modules inspect and the serializer writes.
// Names are kept qualified as they appeared ("stream:features"); namespaces live in xmlns attributes,
// which is all XMPP's restricted XML needs.

export type Attrs = Record<string, string>;

// ES2024 string methods (Node 20 has them; the ES2022 lib this project compiles against does not).
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}
export type Node = Element | string;

export class Element {
  name: string;
  attrs: Attrs;
  children: Node[];
  parent: Element | null = null;

  constructor(name: string, attrs?: Attrs | null, children?: Node[]) {
    this.name = name;
    this.attrs = attrs ?? {};
    this.children = [];
    if (children) for (const child of children) this.append(child);
  }

  get xmlns(): string | undefined {
    return this.attrs.xmlns;
  }

  /** The namespace in scope for this element, looking up through its ancestors. */
  namespace(): string | undefined {
    const colon = this.name.indexOf(':');
    const key = colon < 0 ? 'xmlns' : `xmlns:${this.name.slice(0, colon)}`;
    for (let el: Element | null = this; el; el = el.parent) {
      const ns = el.attrs[key];
      if (ns !== undefined) return ns;
    }
    return undefined;
  }

  get localName(): string {
    const colon = this.name.indexOf(':');
    return colon < 0 ? this.name : this.name.slice(colon + 1);
  }

  is(localName: string, xmlns?: string): boolean {
    return this.localName === localName && (xmlns === undefined || this.namespace() === xmlns);
  }

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  setAttr(name: string, value: string | number | undefined | null): this {
    if (value === undefined || value === null) delete this.attrs[name];
    else this.attrs[name] = String(value);
    return this;
  }

  append(child: Node): Node {
    if (typeof child !== 'string') {
      child.parent = this;
    }
    this.children.push(child);
    return child;
  }

  /** Adds a child element and returns it (builder style). */
  c(name: string, attrs?: Attrs | null): Element {
    const el = new Element(name, attrs);
    this.append(el);
    return el;
  }

  /** Adds text and returns this element. */
  t(text: string): this {
    if (text !== '') this.children.push(text);
    return this;
  }

  up(): Element {
    return this.parent ?? this;
  }

  remove(child: Element): this {
    const i = this.children.indexOf(child);
    if (i >= 0) {
      this.children.splice(i, 1);
      child.parent = null;
    }
    return this;
  }

  getChild(localName: string, xmlns?: string): Element | undefined {
    for (const child of this.children) {
      if (typeof child !== 'string' && child.is(localName, xmlns)) return child;
    }
    return undefined;
  }

  getChildren(localName?: string, xmlns?: string): Element[] {
    const out: Element[] = [];
    for (const child of this.children) {
      if (typeof child !== 'string' && (localName === undefined || child.is(localName, xmlns))) out.push(child);
    }
    return out;
  }

  /** The first child element, ignoring text. */
  firstElement(): Element | undefined {
    for (const child of this.children) if (typeof child !== 'string') return child;
    return undefined;
  }

  text(): string {
    let out = '';
    for (const child of this.children) if (typeof child === 'string') out += child;
    return out;
  }

  getChildText(localName: string, xmlns?: string): string | undefined {
    return this.getChild(localName, xmlns)?.text();
  }

  clone(): Element {
    const copy = new Element(this.name, { ...this.attrs });
    for (const child of this.children) copy.append(typeof child === 'string' ? child : child.clone());
    return copy;
  }

  toString(): string {
    return serialize(this);
  }
}

/** Builder shorthand: xml('iq', {type: 'result'}, xml('query', {xmlns: NS}), 'text'). */
export function xml(name: string, attrs?: Attrs | null, ...children: (Node | null | undefined | false)[]): Element {
  const el = new Element(name, attrs);
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

const TEXT_ESCAPES = /[&<>\r]/g;
const ATTR_ESCAPES = /[&<>"'\t\n\r]/g;
const ESCAPE_MAP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
// Characters XML 1.0 cannot carry at all become U+FFFD: controls and non-characters here, unpaired
// surrogates through toWellFormed(). (Checking surrogates natively keeps emoji off the slow path.)
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const FORBIDDEN_ALL = new RegExp(FORBIDDEN.source, 'g');
// One scan decides the common case: nothing to escape or replace.
const ANY_TEXT_SPECIAL = /[&<>\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const ANY_ATTR_SPECIAL = /[&<>"'\t\n\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const escapeChar = (c: string): string => ESCAPE_MAP[c]!;

function escape(s: string, special: RegExp, escapes: RegExp): string {
  if (!s.isWellFormed()) s = s.toWellFormed();
  if (!special.test(s)) return s;
  if (FORBIDDEN.test(s)) s = s.replace(FORBIDDEN_ALL, '\ufffd');
  return s.replace(escapes, escapeChar);
}

export const escapeText = (s: string): string => escape(s, ANY_TEXT_SPECIAL, TEXT_ESCAPES);

export const escapeAttr = (s: string): string => escape(s, ANY_ATTR_SPECIAL, ATTR_ESCAPES);

/** Opening tag only, e.g. for stream headers that are never closed in the same write. */
export function serializeOpenTag(name: string, attrs: Attrs, selfClose = false): string {
  let out = '<' + name;
  for (const key in attrs) {
    const value = attrs[key];
    if (value !== undefined) out += ' ' + key + '="' + escapeAttr(value) + '"';
  }
  return out + (selfClose ? '/>' : '>');
}

/** Compact serialization: no whitespace is ever added between elements. */
export function serialize(el: Element): string {
  if (el.children.length === 0) return serializeOpenTag(el.name, el.attrs, true);
  let out = serializeOpenTag(el.name, el.attrs);
  const children = el.children;
  for (let i = 0; i < children.length; i++) {
    const child = children[i]!;
    out += typeof child === 'string' ? escapeText(child) : serialize(child);
  }
  return out + '</' + el.name + '>';
}
