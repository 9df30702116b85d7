// XMPP over WebSocket (RFC 7395): subprotocol "xmpp", one element per frame, <open/> and <close/>.
import type { WebSocket } from 'ws';
import { serialize, serializeOpenTag, type Element } from '../xml/element.js';
import { StreamParser, type ParserLimits } from '../xml/stream-parser.js';
import { NS_CLIENT, NS_FRAMING } from '../xmpp/ns.js';
import type { StreamError } from '../xmpp/errors.js';
import { forwardParserEvents, type ConnectionHandler, type XmppConnection } from './types.js';

export class WebSocketConnection implements XmppConnection {
  readonly kind = 'websocket' as const;
  readonly canStartTls = false;
  private handler: ConnectionHandler | null = null;
  private readonly parser: StreamParser;
  private closing = false;
  private closedReported = false;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    readonly secure: boolean,
    limits: ParserLimits,
  ) {
    this.parser = new StreamParser(
      forwardParserEvents(() => this.handler),
      limits,
      true,
    );
    ws.on('message', (data: Buffer) => this.parser.write(data));
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.closedReported) return;
      this.closedReported = true;
      this.closing = true;
      this.parser.stop();
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

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(error?: StreamError): void {
    if (this.closing) return;
    this.closing = true;
    this.parser.stop();
    if (error) this.write(serialize(error.toElement()), true);
    this.write(serializeOpenTag('close', { xmlns: NS_FRAMING }, true), true);
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  private write(data: string, evenIfClosing = false): void {
    if ((this.closing && !evenIfClosing) || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(data);
  }
}
