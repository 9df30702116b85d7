// XMPP over WebSocket (RFC 7395): subprotocol "xmpp", one element per frame, <open/> and <close/>.
import type { WebSocket } from 'ws';
import { serialize, serializeOpenTag, type Element } from '../xml/element.js';
import { StreamParser } from '../xml/stream-parser.js';
import { NS_CLIENT, NS_FRAMING } from '../xmpp/ns.js';
import { StreamError } from '../xmpp/errors.js';
import { OutputGate, type TransportLimits } from './output.js';
import { forwardParserEvents, type ConnectionHandler, type XmppConnection } from './types.js';

export class WebSocketConnection implements XmppConnection {
  readonly kind = 'websocket' as const;
  readonly canStartTls = false;
  private handler: ConnectionHandler | null = null;
  private readonly parser: StreamParser;
  private closing = false;
  private closedReported = false;
  private readonly output: OutputGate;
  private pausedBySession = false;
  private pausedByOutput = false;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    readonly secure: boolean,
    limits: TransportLimits,
  ) {
    this.parser = new StreamParser(
      forwardParserEvents(() => this.handler),
      limits,
      true,
    );
    this.output = new OutputGate(limits, {
      holdInput: (held) => {
        this.pausedByOutput = held;
        this.updateReading();
      },
      overflow: () =>
        queueMicrotask(() => {
          this.close(new StreamError('policy-violation', 'too much output waiting for you to read it'));
          this.ws.terminate();
        }),
    });
    ws.on('message', (data: Buffer) => this.parser.write(data));
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.closedReported) return;
      this.closedReported = true;
      this.closing = true;
      this.parser.stop();
      this.output.closed();
      this.handler?.closed();
    });
  }

  setHandler(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  openStream(attrs: Record<string, string>): void {
    this.write(serializeOpenTag('open', { xmlns: NS_FRAMING, ...attrs }, true));
  }

  send(el: Element): void {
    // Each frame stands alone, so a stanza must name its namespace itself.
    if (el.attrs.xmlns === undefined && !el.name.includes(':')) {
      this.write(serialize(el).replace(/^<([^\s/>]+)/, `<$1 xmlns="${NS_CLIENT}"`));
    } else {
      this.write(serialize(el));
    }
  }

  startTls(): void {
    // Not offered on WebSocket: TLS belongs to the wss:// layer.
  }

  restart(): void {
    // The client's next <open/> frame restarts the stream; the framed parser needs no reset.
  }

  keepAlive(): void {
    if (!this.closing) this.ws.ping();
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
    if (this.pausedBySession || this.pausedByOutput) this.ws.pause();
    else this.ws.resume();
  }

  close(error?: StreamError): void {
    if (this.closing) return;
    this.closing = true;
    this.parser.stop();
    this.output.closed();
    if (error) this.write(serialize(error.toElement()), true);
    this.write(serializeOpenTag('close', { xmlns: NS_FRAMING }, true), true);
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  private write(data: string, evenIfClosing = false): void {
    if ((this.closing && !evenIfClosing) || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(data, this.output.wrote(data.length));
  }
}
