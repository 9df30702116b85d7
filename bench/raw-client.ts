// A minimal XMPP client over a raw TCP socket: PLAIN login without TLS, then line-rate sending.
// Used by benchmarks so that the load generator costs far less than the server it measures.
import net from 'node:net';

export class RawClient {
  private socket!: net.Socket;
  private buffer = '';
  private waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  onData: ((chunk: string) => void) | null = null;

  static async login(port: number, domain: string, username: string, password: string, resource = 'bench'): Promise<RawClient> {
    const c = new RawClient();
    await c.connect(port);
    const header = `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="${domain}" version="1.0">`;
    c.send(header);
    await c.wait(/<\/stream:features>/);
    c.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\0${username}\0${password}`).toString('base64')}</auth>`);
    await c.wait(/<success|<failure/);
    if (!c.buffer.includes('<success')) throw new Error(`login failed for ${username}`);
    c.buffer = '';
    c.send(header);
    await c.wait(/<\/stream:features>/);
    c.send(`<iq type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>${resource}</resource></bind></iq>`);
    await c.wait(/<\/iq>/);
    c.send('<presence/>');
    await c.wait(/<presence/);
    c.buffer = '';
    return c;
  }

  private connect(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket = net.connect(port, '127.0.0.1', () => resolve());
      this.socket.setNoDelay(true);
      this.socket.setEncoding('utf8');
      this.socket.once('error', reject);
      this.socket.on('data', (chunk: string) => {
        if (this.onData) return this.onData(chunk);
        this.buffer += chunk;
        this.waiters = this.waiters.filter((w) => {
          const m = this.buffer.match(w.pattern);
          if (m) w.resolve(m);
          return !m;
        });
      });
    });
  }

  wait(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const m = this.buffer.match(pattern);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for ${pattern}`)), timeoutMs);
      this.waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  send(data: string): boolean {
    return this.socket.write(data);
  }

  close(): void {
    this.socket.end('</stream:stream>');
    this.socket.destroy();
  }
}
