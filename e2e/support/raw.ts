// Raw XMPP over plain TCP (node:net, no TLS: STARTTLS is offered but not required), for feeding
// the server exactly the bytes a test wants and reading exactly what comes back.
import net from 'node:net';
import { sleep, withTimeout } from './wait.js';

export const STREAM_HEADER = (to = 'localhost', extra = ''): string =>
  `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="${to}" version="1.0"${extra}>`;

export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const plainAuth = (authzid: string, authcid: string, password: string): string =>
  `<auth xmlns="${NS_SASL}" mechanism="PLAIN">${b64(`${authzid}\0${authcid}\0${password}`)}</auth>`;

/** Matches `<stream:error><CONDITION` in what the server sent. */
export const streamError = (condition: string): RegExp => new RegExp(`<stream:error[^>]*>\\s*<${condition}[\\s/>]`);

export class RawClient {
  /** Everything received so far, decoded as UTF-8. */
  received = '';
  private cursor = 0;
  readonly closed: Promise<void>;
  isClosed = false;
  private listeners = new Set<() => void>();

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('utf8');
      for (const l of [...this.listeners]) l();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        for (const l of [...this.listeners]) l();
        resolve();
      }),
    );
  }

  /** `allowHalfOpen`: do not answer the server's FIN, so the server sees a half-closed connection. */
  static connect(port: number, opts: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
    return withTimeout(
      new Promise<RawClient>((resolve, reject) => {
        const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: opts.allowHalfOpen ?? false }, () => resolve(new RawClient(socket)));
        socket.once('error', reject);
      }),
      3000,
      'raw connect',
    );
  }

  send(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Waits until text after the cursor matches; moves the cursor past the match and returns it. */
  async expect(pattern: RegExp | string, ms = 3000): Promise<string> {
    const find = (): string | null => {
      const rest = this.received.slice(this.cursor);
      if (typeof pattern === 'string') {
        const i = rest.indexOf(pattern);
        if (i < 0) return null;
        this.cursor += i + pattern.length;
        return pattern;
      }
      const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(rest);
      if (!m) return null;
      this.cursor += m.index + m[0].length;
      return m[0];
    };
    const now = find();
    if (now !== null) return now;
    let listener!: () => void;
    const found = new Promise<string>((resolve, reject) => {
      listener = () => {
        const hit = find();
        if (hit !== null) resolve(hit);
        else if (this.isClosed) reject(new Error(`connection closed before ${pattern} arrived; received: ${this.received.slice(-2000)}`));
      };
      this.listeners.add(listener);
    });
    try {
      return await withTimeout(found, ms, () => `expect ${pattern} (received: ${this.received.slice(-500)})`);
    } finally {
      this.listeners.delete(listener);
    }
  }

  /** Waits for the server to close the connection. */
  waitClosed(ms = 3000): Promise<void> {
    return withTimeout(this.closed, ms, () => `server close (received: ${this.received.slice(-500)})`);
  }

  /** Opens a stream and waits for the features. */
  async open(to = 'localhost'): Promise<string> {
    this.send(STREAM_HEADER(to));
    return this.expect(/<stream:features[\s\S]*?<\/stream:features>/);
  }

  /** Full PLAIN login: stream, auth, restart, bind, session, initial presence (and its echo). Returns the full JID. */
  async login(username: string, password: string, resource = 'raw'): Promise<string> {
    await this.open();
    this.send(plainAuth('', username, password));
    await this.expect(/<success[^>]*(\/>|>[\s\S]*?<\/success>)/);
    await this.open();
    this.send(`<iq type="set" id="bind1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>${resource}</resource></bind></iq>`);
    const bound = await this.expect(/<iq[^>]*id="bind1"[\s\S]*?<\/iq>/);
    const jid = /<jid>([^<]+)<\/jid>/.exec(bound)?.[1];
    if (!jid) throw new Error(`no JID in bind result: ${bound}`);
    this.send('<iq type="set" id="sess1"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>');
    await this.expect(/<iq[^>]*id="sess1"[^>]*type="result"|<iq[^>]*type="result"[^>]*id="sess1"/);
    this.send('<presence/>');
    await this.expect(/<presence[^>]*>|<presence[^>]*\/>/);
    return jid;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Connects, sends `data` (pieces with a short pause between them), and returns everything received until the server closes or `ms` passes. */
export async function rawExchange(port: number, data: string | Buffer | (string | Buffer)[], ms = 2000): Promise<{ text: string; closed: boolean }> {
  const raw = await RawClient.connect(port);
  try {
    for (const piece of Array.isArray(data) ? data : [data]) {
      raw.send(piece);
      await sleep(20);
    }
    await Promise.race([raw.closed, sleep(ms)]);
    return { text: raw.received, closed: raw.isClosed };
  } finally {
    raw.destroy();
  }
}

/** Tracks raw clients so a test file can destroy them all in `after`. */
export class RawPool {
  private readonly open = new Set<RawClient>();
  async connect(port: number, opts: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
    const raw = await RawClient.connect(port, opts);
    this.open.add(raw);
    return raw;
  }
  destroyAll(): void {
    for (const raw of this.open) raw.destroy();
    this.open.clear();
  }
}
