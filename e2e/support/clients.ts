// @xmpp/client connections for the e2e tests: an inbox of received stanzas, bounded waits, and a
// pool that stops every client it opened. Automatic reconnection is switched off.
import { WebSocket as WsWebSocket } from 'ws';
import { client, xml } from '@xmpp/client';
import type { TestServer, TestUser } from './server.js';
import { Inbox, withTimeout } from './wait.js';

/** ltx elements as @xmpp/client hands them out (the library ships no types). */
export interface XEl {
  name: string;
  attrs: Record<string, string>;
  children: (XEl | string)[];
  is(name: string, xmlns?: string): boolean;
  getChild(name: string, xmlns?: string): XEl | undefined;
  getChildren(name: string, xmlns?: string): XEl[];
  getChildText(name: string, xmlns?: string): string | null;
  text(): string;
  toString(): string;
}

// Node 20 has no global WebSocket (@xmpp/websocket expects one); `ws` implements the same API.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WsWebSocket;

export { xml };
export type Transport = 'tcp' | 'tls' | 'ws';

export function serviceUrl(t: TestServer, transport: Transport): string {
  const { c2s, c2sTls, ws } = t.server.ports;
  if (transport === 'tcp') return `xmpp://127.0.0.1:${c2s}`;
  if (transport === 'tls') return `xmpps://127.0.0.1:${c2sTls}`;
  return `ws://127.0.0.1:${ws}/ws`;
}

export interface Conn {
  xmpp: any;
  user: TestUser;
  /** The bound full JID. */
  jid: string;
  inbox: Inbox<XEl>;
  /** Stream errors and other 'error' events the client emitted. */
  errors: any[];
  send(el: XEl): Promise<void>;
  /** The next received stanza matching, within `ms`. */
  take(match: (el: XEl) => boolean, ms?: number, label?: string): Promise<XEl>;
  /** An IQ request; resolves with the result, rejects with the StanzaError. */
  iq(el: XEl, ms?: number): Promise<XEl>;
  /** Sends initial presence and waits for the server's echo of it. */
  available(): Promise<XEl>;
  /** A ping round trip to the server: every stanza sent before it has been processed. */
  ping(): Promise<void>;
  stop(): Promise<void>;
}

export interface ConnectOptions {
  transport?: Transport;
  resource?: string;
  /** Send initial presence once online (default true). */
  presence?: boolean;
  password?: string;
  service?: string;
  /**
   * The SASL mechanism to use. Default PLAIN: @xmpp/client computes SCRAM's PBKDF2 in plain JS
   * (~250 ms a login), which would dominate the suite; pass 'SCRAM-SHA-1' where SCRAM is the point.
   */
  mechanism?: 'PLAIN' | 'SCRAM-SHA-1';
}

export const isMessage = (el: XEl): boolean => el.name === 'message';
export const withBody = (el: XEl): boolean => el.name === 'message' && el.getChild('body') !== undefined;
export const errorCondition = (el: XEl): string | undefined =>
  el.getChild('error')?.children.find((c): c is XEl => typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text')?.name;

/** Creates an @xmpp/client for `user` without starting it (reconnect off, errors collected). */
export function rawClient(t: TestServer, user: { username: string; password: string }, opts: ConnectOptions = {}): any {
  const password = opts.password ?? user.password;
  const mechanism = opts.mechanism ?? 'PLAIN';
  const xmpp = client({
    service: opts.service ?? serviceUrl(t, opts.transport ?? 'tcp'),
    domain: t.domain,
    username: user.username,
    password,
    resource: opts.resource,
    // The library's 2 s default for each step (open, STARTTLS, close) failed on a loaded 2-core machine.
    timeout: 10_000,
    credentials: (authenticate: (creds: object, mech: string) => Promise<void>, offered: string[]) => {
      if (!offered.includes(mechanism)) throw new Error(`${mechanism} not offered: ${offered}`);
      return authenticate({ username: user.username, password }, mechanism);
    },
  });
  xmpp.reconnect.stop();
  return xmpp;
}

export async function stopClient(xmpp: any): Promise<void> {
  xmpp.reconnect?.stop();
  try {
    await withTimeout(xmpp.stop(), 3000, 'client stop');
  } catch {
    xmpp.socket?.end?.();
    xmpp.socket?.socket?.destroy?.();
  }
}

export class ClientPool {
  private readonly open = new Set<any>();
  constructor(private readonly t: TestServer) {}

  /** Adds a client made elsewhere so that `stopAll` stops it. */
  track<X>(xmpp: X): X {
    this.open.add(xmpp);
    return xmpp;
  }

  async connect(user: TestUser, opts: ConnectOptions = {}): Promise<Conn> {
    const xmpp = this.track(rawClient(this.t, user, opts));
    const inbox = new Inbox<XEl>();
    const errors: any[] = [];
    xmpp.on('error', (err: unknown) => errors.push(err));
    xmpp.on('stanza', (el: XEl) => {
      // IQ requests to this client are answered by its iqCallee; results are matched by iqCaller.
      if (el.name === 'iq' && (el.attrs.type === 'result' || el.attrs.type === 'error' || el.attrs.type === 'get')) return;
      inbox.push(el);
    });
    const jid = String(await withTimeout(xmpp.start(), 5000, `login ${user.username}`));
    const conn: Conn = {
      xmpp,
      user,
      jid,
      inbox,
      errors,
      send: (el) => xmpp.send(el),
      take: (match, ms = 3000, label = `stanza for ${user.username}`) => inbox.take(match, ms, label),
      iq: (el, ms = 3000) => withTimeout(xmpp.iqCaller.request(el, ms), ms + 500, 'iq'),
      available: async () => {
        await xmpp.send(xml('presence'));
        return inbox.take((el) => el.name === 'presence' && el.attrs.from === jid && !el.attrs.type, 3000, 'own presence echo');
      },
      ping: async () => {
        await conn.iq(xml('iq', { type: 'get', to: this.t.domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      },
      stop: async () => {
        this.open.delete(xmpp);
        await stopClient(xmpp);
      },
    };
    if (opts.presence !== false) await conn.available();
    return conn;
  }

  async stopAll(): Promise<void> {
    const all = [...this.open];
    this.open.clear();
    await Promise.all(all.map(stopClient));
  }
}
