// A raw-socket XEP-0198 client for the e2e tests: logs in, enables stream management, counts the
// stanzas it has fully received (its `h`), cuts its connection at a chosen point and resumes on a
// new one. What it received on earlier connections is kept, so `bodies()` covers the whole session.
import { plainAuth, type RawClient, type RawPool } from './raw.js';
import type { TestUser } from './server.js';

export const NS_SM = 'urn:xmpp:sm:3';
const STANZA = /<(message|presence|iq)\b[^>]*?(?:\/>|>[\s\S]*?<\/\1>)/g;

export const stanzasIn = (text: string): string[] => text.match(STANZA) ?? [];
export const bodyOf = (stanza: string): string | undefined => /<body>([\s\S]*?)<\/body>/.exec(stanza)?.[1];

export class SmRaw {
  private readonly conns: RawClient[] = [];
  /** Stanzas received on earlier connections after stream management was on. */
  private earlier: string[] = [];
  /** Where counting starts in the current connection's text; -1 when not counting. */
  private from = -1;
  id = '';
  jid = '';

  constructor(
    private readonly pool: RawPool,
    private readonly port: number,
    readonly user: TestUser,
    readonly resource = 'sm',
  ) {}

  get raw(): RawClient {
    return this.conns.at(-1)!;
  }

  /** Complete stanzas received since <enabled/> (across resumptions). */
  stanzas(): string[] {
    return this.from < 0 ? this.earlier : [...this.earlier, ...stanzasIn(this.raw.received.slice(this.from))];
  }

  get h(): number {
    return this.stanzas().length;
  }

  bodies(): string[] {
    return this.stanzas().filter((s) => s.startsWith('<message')).map(bodyOf).filter((b): b is string => b !== undefined);
  }

  /** A fresh connection (to `port`, another cluster node say), authenticated, before binding. */
  async authenticate(port = this.port): Promise<RawClient> {
    const raw = await this.pool.connect(port);
    this.conns.push(raw);
    await raw.open();
    raw.send(plainAuth('', this.user.username, this.user.password));
    await raw.expect(/<success[^>]*(\/>|>[\s\S]*?<\/success>)/);
    await raw.open();
    return raw;
  }

  /** Logs in, binds, enables stream management (before initial presence, so offline messages count). */
  async login(opts: { resume?: boolean; presence?: boolean } = {}): Promise<this> {
    const raw = await this.authenticate();
    raw.send(`<iq type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>${this.resource}</resource></bind></iq>`);
    this.jid = /<jid>([^<]+)<\/jid>/.exec(await raw.expect(/<iq[^>]*id="bind"[\s\S]*?<\/iq>/))![1]!;
    this.earlier = [];
    raw.send(`<enable xmlns="${NS_SM}"${opts.resume === false ? '' : ' resume="true"'}/>`);
    const enabled = await raw.expect(/<enabled [^>]*\/>/);
    this.id = /id="([^"]+)"/.exec(enabled)?.[1] ?? '';
    this.from = raw.received.indexOf(enabled) + enabled.length;
    if (opts.presence !== false) {
      raw.send('<presence/>');
      await raw.expect(/<presence[^>]*(\/>|>)/);
    }
    return this;
  }

  /** Drops the connection without a word, as a network failure would. */
  cut(): void {
    this.earlier = this.stanzas();
    this.from = -1;
    this.raw.destroy();
  }

  /** Resumes on a new connection (to `port`: another cluster node, say); returns the server's <resumed/> or <failed/>. */
  async resume(h = this.h, previd = this.id, port = this.port): Promise<string> {
    this.earlier = this.stanzas(); // what the current connection got (when it was not cut)
    this.from = -1;
    const raw = await this.authenticate(port);
    raw.send(`<resume xmlns="${NS_SM}" previd="${previd}" h="${h}"/>`);
    const answer = await raw.expect(/<resumed [^>]*\/>|<failed[^>]*\/>|<failed[\s\S]*?<\/failed>/);
    if (answer.startsWith('<resumed')) this.from = raw.received.indexOf(answer) + answer.length;
    return answer;
  }

  ack(h = this.h): void {
    this.raw.send(`<a xmlns="${NS_SM}" h="${h}"/>`);
  }

  /** Sends <r/> and returns the server's h. */
  async request(): Promise<number> {
    this.raw.send(`<r xmlns="${NS_SM}"/>`);
    return Number(/h="(\d+)"/.exec(await this.raw.expect(/<a xmlns="urn:xmpp:sm:3" h="\d+"\/>/))![1]);
  }

  chat(to: string, body: string, id = body): string {
    return `<message type="chat" to="${to}" id="${id}"><body>${body}</body></message>`;
  }
}
