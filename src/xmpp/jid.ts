// JIDs (RFC 7622), with the light normalisation Parley needs: local and domain parts are
// case-folded and NFKC-normalised, the resource is NFKC-normalised. Full PRECIS is not applied.

const LOCAL_FORBIDDEN = /[\s"&'/:<>@\u0000-\u001f\u007f]/;
const DOMAIN_FORBIDDEN = /[\s"&'/:<>@\\\u0000-\u001f\u007f]|\.\.|^\.|\.$/;
const MAX_PART = 1023;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const PARSED_KEPT = 10_000;
const recentlyParsed = new Map<string, Jid>();

const nfkc = (text: string, ascii: boolean): string => (ascii ? text : text.normalize('NFKC'));
const byteLength = (text: string, ascii: boolean): number => (ascii ? text.length : Buffer.byteLength(text));

export class Jid {
  /**
   * `local@domain`, or the domain. Made once: routing looks sessions up by it several times per
   * stanza, and a string made anew each time is hashed anew by every Map lookup.
   */
  readonly #bare: string;
  #full: string | undefined;

  private constructor(
    readonly local: string,
    readonly domain: string,
    readonly resource: string,
  ) {
    this.#bare = local ? `${local}@${domain}` : domain;
  }

  get bare(): string {
    return this.#bare;
  }

  static parse(input: string): Jid | null {
    if (input.length === 0 || input.length > 3071) return null;
    // Printable ASCII (nearly every JID) is its own NFKC form and one byte a character.
    const ascii = PRINTABLE_ASCII.test(input);
    const slash = input.indexOf('/');
    const bare = slash < 0 ? input : input.slice(0, slash);
    const resource = slash < 0 ? '' : nfkc(input.slice(slash + 1), ascii);
    const at = bare.indexOf('@');
    const local = at < 0 ? '' : nfkc(bare.slice(0, at), ascii).toLowerCase();
    const domain = nfkc(at < 0 ? bare : bare.slice(at + 1), ascii).toLowerCase();
    if (at >= 0 && local === '') return null;
    if (slash >= 0 && resource === '') return null;
    if (!domain || byteLength(domain, ascii) > MAX_PART || DOMAIN_FORBIDDEN.test(domain)) return null;
    if (byteLength(local, ascii) > MAX_PART || LOCAL_FORBIDDEN.test(local)) return null;
    if (byteLength(resource, ascii) > MAX_PART || (!ascii && /[\u0000-\u001f\u007f]/.test(resource))) return null;
    return new Jid(local, domain, resource);
  }

  /**
   * `parse`, remembering the result for the addresses seen most recently (every stanza's `to` is
   * parsed, and a user receives many). A Jid never changes, so one may serve many stanzas.
   */
  static parseCached(input: string): Jid | null {
    const known = recentlyParsed.get(input);
    if (known !== undefined) return known;
    // Only the common form is kept, parsed from a copy of its own: `input` may be a slice of a large
    // string (a parser's input chunk) that a cache entry, or the parts of its Jid, would keep alive.
    if (input.length > 256 || !PRINTABLE_ASCII.test(input)) return Jid.parse(input);
    const copy = Buffer.from(input, 'latin1').toString('latin1');
    const jid = Jid.parse(copy);
    if (jid) {
      if (recentlyParsed.size >= PARSED_KEPT) recentlyParsed.clear();
      recentlyParsed.set(copy, jid);
    }
    return jid;
  }

  static of(local: string, domain: string, resource = ''): Jid {
    return new Jid(local, domain, resource);
  }

  get isBare(): boolean {
    return this.resource === '';
  }

  toBare(): Jid {
    return this.resource ? new Jid(this.local, this.domain, '') : this;
  }

  withResource(resource: string): Jid {
    return new Jid(this.local, this.domain, resource);
  }

  toString(): string {
    // A session's full JID becomes the `from` of everything it sends: made once.
    return (this.#full ??= this.resource ? `${this.#bare}/${this.resource}` : this.#bare);
  }

  equals(other: Jid): boolean {
    return this.local === other.local && this.domain === other.domain && this.resource === other.resource;
  }
}

/** QuickBlox user JIDs have the local part `<userId>-<appId>`. */
export interface UserAddress {
  userId: number;
  appId: number;
}

/** `<userId>-<appId>`, each 1 to 16 digits without a leading zero and a safe integer; null otherwise. Scanned by hand: it runs several times per message. */
export function parseUserLocal(local: string): UserAddress | null {
  const dash = local.indexOf('-');
  const userId = decimalId(local, 0, dash);
  if (userId < 0) return null;
  const appId = decimalId(local, dash + 1, local.length);
  return appId < 0 ? null : { userId, appId };
}

/** The number written in text[start, end), or -1 unless it is 1 to 16 digits, no leading zero, a safe integer. */
function decimalId(text: string, start: number, end: number): number {
  const length = end - start;
  if (length < 1 || length > 16) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9 || (digit === 0 && i === start)) return -1;
    value = value * 10 + digit;
  }
  return Number.isSafeInteger(value) ? value : -1;
}

export function userLocal(user: UserAddress): string {
  return `${user.userId}-${user.appId}`;
}
