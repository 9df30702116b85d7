import type { Element } from '../xml/element.js';
import type { StreamHandler } from '../xml/stream-parser.js';
import type { StreamError } from '../xmpp/errors.js';

export type TransportKind = 'tcp' | 'tls' | 'websocket';

/** What a connection reports upwards: stream events from its parser, and its end. */
export interface ConnectionHandler extends StreamHandler {
  closed(): void;
}

/**
 * One client connection, whatever carries it. Code above the transport sees only this: it never
 * learns whether bytes travel over TCP, TLS or WebSocket frames.
 */
export interface XmppConnection {
  readonly kind: TransportKind;
  readonly remoteAddress: string;
  /** True once the bytes are encrypted (direct TLS, after STARTTLS, or wss). */
  readonly secure: boolean;
  /** True when STARTTLS can still be offered on this connection. */
  readonly canStartTls: boolean;
  setHandler(handler: ConnectionHandler): void;
  /** Writes the stream header (<stream:stream> or <open/>) with these attributes. */
  openStream(attrs: Record<string, string>): void;
  send(el: Element): void;
  /** Writes <proceed/>, then upgrades the socket; the parser restarts on the encrypted bytes. */
  startTls(proceed: Element): void;
  /** Resets the parser for a new stream (after SASL success). */
  restart(): void;
  /** Whitespace keep-alive where the transport has one. */
  keepAlive(): void;
  /** Ends the stream (with the error first, if any) and closes the connection. */
  close(error?: StreamError): void;
  pause(): void;
  resume(): void;
  /** Output handed to the socket and not yet flushed to the kernel (characters, about bytes). */
  readonly bufferedBytes: number;
  /** Null while pending output is under the high-water mark; else resolves once it is again, or the connection is gone. */
  whenDrained(): Promise<void> | null;
}

/** Parser events, passed on to whichever handler the connection has when they happen. */
export function forwardParserEvents(handler: () => ConnectionHandler | null): StreamHandler {
  return {
    streamStart: (header, ns) => handler()?.streamStart(header, ns),
    element: (el) => handler()?.element(el),
    streamEnd: () => handler()?.streamEnd(),
    parseError: (condition, text) => handler()?.parseError(condition, text),
  };
}

/**
 * Counts connections against their remote address from the moment they are accepted (before a
 * TLS handshake); a listener asks it before spending anything on a new socket.
 */
export interface ConnectionGate {
  /** Counts `holder`; false when its address is at the cap (then it is not counted). */
  admit(holder: object, address: string): boolean;
  /** Moves what `from` counted over to `to`. */
  transfer(from: object, to: object): void;
  release(holder: object): void;
}
