// Listening sockets for the three XMPP transports. Each hands every new connection to `accept`.
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import tls, { type SecureContext } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { ParserLimits } from '../xml/stream-parser.js';
import { SocketConnection } from './socket.js';
import { WebSocketConnection } from './websocket.js';
import type { XmppConnection } from './types.js';

export interface TlsCredentials {
  key: string;
  cert: string;
}

export interface ListenOptions {
  host: string;
  port: number;
  limits: ParserLimits;
  accept: (connection: XmppConnection) => void;
}

export interface Listener {
  readonly port: number;
  close(): Promise<void>;
  /** Replaces the certificate for connections accepted from now on (listeners that speak TLS). */
  setTls?(credentials: TlsCredentials): void;
}

export const WEBSOCKET_PATHS = new Set(['/', '/ws', '/xmpp-websocket']);

/** Plain TCP with STARTTLS offered when a certificate is available. */
export async function listenTcp(opts: ListenOptions & { tls: TlsCredentials | null }): Promise<Listener> {
  let context: SecureContext | null = opts.tls ? tls.createSecureContext(opts.tls) : null;
  const server = net.createServer((socket) => opts.accept(new SocketConnection(socket, 'tcp', opts.limits, context)));
  const listener = await listen(server, opts);
  return { ...listener, setTls: (credentials) => (context = tls.createSecureContext(credentials)) };
}

/** Direct TLS (XEP-0368 style): the stream starts encrypted. */
export async function listenDirectTls(opts: ListenOptions & { tls: TlsCredentials }): Promise<Listener> {
  const server = tls.createServer({ key: opts.tls.key, cert: opts.tls.cert }, (socket) =>
    opts.accept(new SocketConnection(socket, 'tls', opts.limits, null)),
  );
  server.on('tlsClientError', () => {});
  return withTls(server, await listen(server, opts));
}

/** A listener whose server (TLS or HTTPS) takes a new certificate through setSecureContext. */
export function withTls(server: tls.Server, listener: Listener): Listener {
  return { ...listener, setTls: (credentials) => server.setSecureContext({ key: credentials.key, cert: credentials.cert }) };
}

/** XMPP over WebSocket; with `tls`, over wss. */
export function listenWebSocket(opts: ListenOptions & { tls?: TlsCredentials | null }): Promise<Listener> {
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }) : http.createServer();
  server.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('XMPP over WebSocket: connect with the "xmpp" subprotocol\n');
  });
  const wss = attachWebSocket(server, opts);
  return listen(server, opts, () => wss.close());
}

/** Adds the XMPP WebSocket endpoint to an existing HTTP(S) server. */
export function attachWebSocket(server: http.Server | https.Server, opts: Pick<ListenOptions, 'limits' | 'accept'>): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.limits.maxStanzaSize * 4 + 1024,
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });
  const secure = server instanceof https.Server;
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!WEBSOCKET_PATHS.has(path)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      opts.accept(new WebSocketConnection(ws, req.socket.remoteAddress ?? 'unknown', secure, opts.limits));
    });
  });
  return wss;
}

export function listen(server: net.Server, opts: Pick<ListenOptions, 'host' | 'port'>, onClose?: () => void): Promise<Listener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : opts.port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            onClose?.();
            server.close(() => done());
            (server as http.Server).closeAllConnections?.();
          }),
      });
    });
  });
}
