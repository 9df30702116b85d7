// Listening sockets for the three XMPP transports. Each hands every new connection to `accept`.
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import tls, { TLSSocket, type SecureContext } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { TransportLimits } from './output.js';
import { SocketConnection } from './socket.js';
import { WebSocketConnection } from './websocket.js';
import type { ConnectionGate, XmppConnection } from './types.js';
import { readProxyHeader, type TrustedProxies } from './proxy-protocol.js';

export interface TlsCredentials {
  key: string;
  cert: string;
}

export interface ListenOptions {
  host: string;
  port: number;
  limits: TransportLimits;
  accept: (connection: XmppConnection) => void;
  /** Counts direct-TLS sockets against their address from the TCP accept. */
  gate?: ConnectionGate;
  /** Peers whose PROXY protocol header is read (TCP and direct TLS); null or absent: PROXY protocol off. */
  proxies?: TrustedProxies | null;
  /** Time for a PROXY header and a direct-TLS handshake. */
  handshakeTimeoutMs?: number;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

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
  const server = net.createServer((socket) => {
    void clientAddress(socket, opts).then((address) => {
      if (address === undefined) return;
      opts.accept(new SocketConnection(socket, 'tcp', opts.limits, context, address ?? undefined));
      socket.resume(); // paused after a PROXY header
    });
  });
  const listener = await listen(server, opts);
  return { ...listener, setTls: (credentials) => (context = tls.createSecureContext(credentials)) };
}

/**
 * Direct TLS (XEP-0368 style): the stream starts encrypted. The socket counts against its address
 * from the TCP accept, and the handshake (after the PROXY header, if any) must finish in time.
 */
export async function listenDirectTls(opts: ListenOptions & { tls: TlsCredentials }): Promise<Listener> {
  let context = tls.createSecureContext({ key: opts.tls.key, cert: opts.tls.cert });
  const timeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const server = net.createServer((raw) => {
    raw.on('error', () => {});
    const timer = setTimeout(() => raw.destroy(), timeoutMs);
    timer.unref();
    raw.once('close', () => {
      clearTimeout(timer);
      opts.gate?.release(raw);
    });
    void clientAddress(raw, opts).then((address) => {
      if (address === undefined) return;
      if (opts.gate && !opts.gate.admit(raw, address ?? raw.remoteAddress ?? 'unknown')) return raw.destroy();
      const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
      secure.on('error', () => raw.destroy());
      secure.once('secure', () => {
        clearTimeout(timer);
        const connection = new SocketConnection(secure, 'tls', opts.limits, null, address ?? undefined);
        opts.gate?.transfer(raw, connection);
        opts.accept(connection);
      });
    });
  });
  const listener = await listen(server, opts);
  return { ...listener, setTls: (credentials) => (context = tls.createSecureContext(credentials)) };
}

/** A listener whose server (HTTPS) takes a new certificate through setSecureContext. */
export function withTls(server: tls.Server, listener: Listener): Listener {
  return { ...listener, setTls: (credentials) => server.setSecureContext({ key: credentials.key, cert: credentials.cert }) };
}

/**
 * The client's address as a trusted proxy's PROXY header gives it (null: the header names none, use
 * the peer's), null when no header is expected from this peer, undefined when the socket was
 * dropped for a bad or missing header.
 */
async function clientAddress(socket: net.Socket, opts: ListenOptions): Promise<string | null | undefined> {
  if (!opts.proxies?.trusts(socket.remoteAddress)) return null;
  try {
    return await readProxyHeader(socket, opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
  } catch {
    socket.destroy();
    return undefined;
  }
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
