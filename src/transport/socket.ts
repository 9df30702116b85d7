// XMPP over a TCP or TLS socket (RFC 6120): <stream:stream> framing and STARTTLS.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { serialize, serializeOpenTag, type Element } from '../xml/element.js';
import { StreamParser } from '../xml/stream-parser.js';
import { NS_CLIENT, NS_STREAM } from '../xmpp/ns.js';
import { StreamError } from '../xmpp/errors.js';
import { OutputGate, type TransportLimits } from './output.js';
import { forwardParserEvents, type ConnectionHandler, type TransportKind, type XmppConnection } from './types.js';

const CLOSE_GRACE_MS = 2000;

// What the connections wrote in this tick goes out once the tick ends, one write per connection:
// one syscall for several stanzas, and one deferred call for all connections (not one each).
// While a connection's input is being handled (nearly all output: stanzas are processed as they are
// parsed), the end of that handling is the end of the tick: it flushes, and nothing is deferred.
const unflushed: SocketConnection[] = [];
let reading = false;
const flushAll = (): void => {
  let i = 0;
  try {
    for (; i < unflushed.length; i++) unflushed[i]!.flush();
  } finally {
    // Should one throw, the others still go out.
    unflushed.splice(0, i + 1);
    if (unflushed.length > 0) process.nextTick(flushAll);
  }
};

export class SocketConnection implements XmppConnection {
  readonly remoteAddress: string;
  secure: boolean;
  private handler: ConnectionHandler | null = null;
  private readonly parser: StreamParser;
  private headerSent = false;
  private closing = false;
  private closedReported = false;
  /** Written in this tick, counted by the output gate, not yet handed to the socket. */
  private unsent = '';
  private flushQueued = false;
  private readonly output: OutputGate;
  private pausedBySession = false;
  private pausedByOutput = false;
  private overflowed = false;

  /** `remoteAddress`: the client's address when a proxy told it (PROXY protocol); the socket's peer otherwise. */
  constructor(
    private socket: Socket,
    readonly kind: TransportKind,
    limits: TransportLimits,
    private readonly starttlsContext: SecureContext | null,
    remoteAddress?: string,
  ) {
    this.remoteAddress = remoteAddress ?? socket.remoteAddress ?? 'unknown';
    this.secure = kind === 'tls';
    this.parser = new StreamParser(
      forwardParserEvents(() => this.handler),
      limits,
    );
    this.output = new OutputGate(limits, {
      holdInput: (held) => {
        this.pausedByOutput = held;
        this.updateReading();
      },
      overflow: () => {
        this.overflowed = true;
        queueMicrotask(() => this.close(new StreamError('policy-violation', 'too much output waiting for you to read it')));
      },
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.attach(socket);
  }

  get canStartTls(): boolean {
    return !this.secure && this.starttlsContext !== null;
  }

  setHandler(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  openStream(attrs: Record<string, string>): void {
    this.headerSent = true;
    this.write("<?xml version='1.0'?>" + serializeOpenTag('stream:stream', { xmlns: NS_CLIENT, 'xmlns:stream': NS_STREAM, ...attrs }));
  }

  send(el: Element): void {
    this.write(serialize(el));
  }

  startTls(proceed: Element): void {
    if (!this.starttlsContext) return;
    this.write(serialize(proceed));
    this.flush();
    this.detach(this.socket);
    const secure = new TLSSocket(this.socket, { isServer: true, secureContext: this.starttlsContext });
    this.socket = secure;
    this.secure = true;
    this.headerSent = false;
    this.parser.reset();
    this.attach(secure);
  }

  restart(): void {
    this.headerSent = false;
    this.parser.reset();
  }

  keepAlive(): void {
    if (!this.closing) this.write(' ');
  }

  get bufferedBytes(): number {
    return this.output.buffered;
  }

  whenDrained(): Promise<void> | null {
    return this.output.whenDrained();
  }

  pause(): void {
    this.pausedBySession = true;
    this.updateReading();
  }

  resume(): void {
    this.pausedBySession = false;
    this.updateReading();
  }

  private updateReading(): void {
    if (this.pausedBySession || this.pausedByOutput) this.socket.pause();
    else this.socket.resume();
  }

  close(error?: StreamError): void {
    if (this.closing) return;
    this.closing = true;
    this.parser.stop();
    this.output.closed();
    if (!this.socket.writable) {
      this.socket.destroy();
      return;
    }
    // What this tick wrote goes out before the end of the stream.
    let out = this.unsent;
    if (out) this.output.release(out.length)();
    this.unsent = '';
    if (error) {
      if (!this.headerSent) out += serializeOpenTag('stream:stream', { xmlns: NS_CLIENT, 'xmlns:stream': NS_STREAM, version: '1.0' });
      out += serialize(error.toElement());
    }
    if (this.headerSent || error) out += '</stream:stream>';
    this.socket.end(out);
    // A client that reads nothing would hold what is buffered for as long as the grace lasts: not past the hard limit.
    if (this.overflowed) this.socket.destroy();
    else setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private write(data: string): void {
    if (this.closing || !this.socket.writable) return;
    this.output.add(data.length);
    this.unsent += data;
    if (!this.flushQueued) {
      this.flushQueued = true;
      if (unflushed.push(this) === 1 && !reading) process.nextTick(flushAll);
    }
  }

  /** Hands what this tick wrote to the socket (flushAll; at once before STARTTLS). */
  flush(): void {
    this.flushQueued = false;
    const out = this.unsent;
    if (!out) return;
    this.unsent = '';
    const flushed = this.output.release(out.length);
    if (this.socket.writable) this.socket.write(out, flushed);
    else flushed();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (reading) return this.parser.write(chunk); // not expected: a read inside another's handling
    reading = true;
    try {
      this.parser.write(chunk);
    } finally {
      reading = false;
      if (unflushed.length > 0) flushAll();
    }
  };
  private readonly onError = (): void => {
    // Reset by peer, TLS failures and the like: 'close' follows and reports the end.
  };
  private readonly onClose = (): void => {
    if (this.closedReported) return;
    this.closedReported = true;
    this.closing = true;
    this.parser.stop();
    this.output.closed();
    this.handler?.closed();
  };

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
  }
}
