// XMPP errors as values: StanzaError (RFC 6120 §8.3) and StreamError (§4.9), each able to
// produce the element that goes on the wire.
import { Element, xml } from '../xml/element.js';
import { NS_STANZA_ERRORS, NS_STREAM, NS_STREAM_ERRORS } from './ns.js';

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

export type StanzaErrorCondition =
  | 'bad-request' | 'conflict' | 'feature-not-implemented' | 'forbidden' | 'gone' | 'internal-server-error'
  | 'item-not-found' | 'jid-malformed' | 'not-acceptable' | 'not-allowed' | 'not-authorized' | 'policy-violation'
  | 'recipient-unavailable' | 'redirect' | 'registration-required' | 'remote-server-not-found'
  | 'remote-server-timeout' | 'resource-constraint' | 'service-unavailable' | 'subscription-required'
  | 'undefined-condition' | 'unexpected-request';

const DEFAULT_TYPE: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify', conflict: 'cancel', 'feature-not-implemented': 'cancel', forbidden: 'auth',
  gone: 'cancel', 'internal-server-error': 'wait', 'item-not-found': 'cancel', 'jid-malformed': 'modify',
  'not-acceptable': 'modify', 'not-allowed': 'cancel', 'not-authorized': 'auth', 'policy-violation': 'modify',
  'recipient-unavailable': 'wait', redirect: 'modify', 'registration-required': 'auth',
  'remote-server-not-found': 'cancel', 'remote-server-timeout': 'wait', 'resource-constraint': 'wait',
  'service-unavailable': 'cancel', 'subscription-required': 'auth', 'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

// Legacy codes: old clients (the QuickBlox SDKs among them) still read error/@code.
const LEGACY_CODE: Partial<Record<StanzaErrorCondition, number>> = {
  'bad-request': 400, 'not-authorized': 401, forbidden: 403, 'item-not-found': 404, 'not-allowed': 405,
  'not-acceptable': 406, 'registration-required': 407, conflict: 409, 'internal-server-error': 500,
  'feature-not-implemented': 501, 'service-unavailable': 503, 'remote-server-timeout': 504,
  'recipient-unavailable': 404, 'remote-server-not-found': 404, 'jid-malformed': 400, 'policy-violation': 406,
  'resource-constraint': 500, 'subscription-required': 407, gone: 302, redirect: 302, 'unexpected-request': 400,
  'undefined-condition': 500,
};

export class StanzaError extends Error {
  readonly type: StanzaErrorType;
  constructor(
    readonly condition: StanzaErrorCondition,
    readonly text?: string,
    type?: StanzaErrorType,
    readonly appSpecific?: Element,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'StanzaError';
    this.type = type ?? DEFAULT_TYPE[condition];
  }

  toElement(): Element {
    const code = LEGACY_CODE[this.condition];
    return xml(
      'error',
      code ? { type: this.type, code: String(code) } : { type: this.type },
      xml(this.condition, { xmlns: NS_STANZA_ERRORS }),
      this.text ? xml('text', { xmlns: NS_STANZA_ERRORS, 'xml:lang': 'en' }, this.text) : null,
      this.appSpecific ?? null,
    );
  }
}

export type StreamErrorCondition =
  | 'bad-format' | 'bad-namespace-prefix' | 'conflict' | 'connection-timeout' | 'host-gone' | 'host-unknown'
  | 'improper-addressing' | 'internal-server-error' | 'invalid-from' | 'invalid-namespace' | 'invalid-xml'
  | 'not-authorized' | 'not-well-formed' | 'policy-violation' | 'remote-connection-failed' | 'reset'
  | 'resource-constraint' | 'restricted-xml' | 'see-other-host' | 'system-shutdown' | 'undefined-condition'
  | 'unsupported-encoding' | 'unsupported-feature' | 'unsupported-stanza-type' | 'unsupported-version';

export class StreamError extends Error {
  constructor(
    readonly condition: StreamErrorCondition,
    readonly text?: string,
    readonly appSpecific?: Element,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'StreamError';
  }

  toElement(): Element {
    return xml(
      'stream:error',
      { 'xmlns:stream': NS_STREAM },
      xml(this.condition, { xmlns: NS_STREAM_ERRORS }),
      this.text ? xml('text', { xmlns: NS_STREAM_ERRORS, 'xml:lang': 'en' }, this.text) : null,
      this.appSpecific ?? null,
    );
  }
}

/**
 * The error reply to a stanza: addresses swapped, type="error", the original payload kept so the
 * sender can match it (RFC 6120 §8.3.1).
 */
export function errorReply(stanza: Element, error: StanzaError): Element {
  const reply = new Element(stanza.name, { ...stanza.attrs, type: 'error' });
  delete reply.attrs.to;
  delete reply.attrs.from;
  if (stanza.attrs.from) reply.attrs.to = stanza.attrs.from;
  if (stanza.attrs.to) reply.attrs.from = stanza.attrs.to;
  for (const child of stanza.children) {
    if (typeof child !== 'string' && child.name !== 'error') reply.append(child.clone());
  }
  reply.append(error.toElement());
  return reply;
}
