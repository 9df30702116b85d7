// Stream-management soak: M clients exchange chat messages through a spawned Parley while their
// connections are dropped at random; it prints sent, received, lost and duplicated.
//   node dist/bench/soak.js [--clients 20] [--seconds 30] [--rate 5] [--kill]
// Each client speaks XEP-0198 over raw TCP itself: it counts what it handles, asks for acks, and
// after a drop either resumes (<resume previd h/>, then resends what <resumed h/> does not cover)
// or — when everything it sent is acknowledged — reports its h with <a/>, drops, and logs in afresh
// (what the old session had not confirmed comes back from offline storage).
// --kill: the server is killed (SIGKILL) mid-run and restarted on the same data. Resumption then
// fails; clients log in afresh without resending what the server never acknowledged. The check is
// that every message the server had acknowledged is delivered.
// Bounded: --seconds of load, then at most 20 s for acknowledgements and deliveries to settle.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { freePort, waitForPort } from '../e2e/support/server.js';
import { sleep } from '../e2e/support/wait.js';

const { values } = parseArgs({
  options: { clients: { type: 'string', default: '20' }, seconds: { type: 'string', default: '30' }, rate: { type: 'string', default: '5' }, kill: { type: 'boolean', default: false } },
});
const M = Number(values.clients);
const seconds = Number(values.seconds);
const rate = Number(values.rate); // messages per second per client
const kill = values.kill;
const NS_SM = 'urn:xmpp:sm:3';

const dataDir = mkdtempSync(join(tmpdir(), 'parley-soak-'));
const store = await openSqliteStore(sqliteFile(dataDir));
const app = await store.accounts.createApplication({ name: 'soak' });
const jids: string[] = [];
const usernames: string[] = [];
for (let i = 0; i < M; i++) {
  const u = await store.accounts.createUser(app.id, { login: `s${i}`, password: 'pw' });
  usernames.push(`${u.id}-${app.id}`);
  jids.push(`${u.id}-${app.id}@localhost`);
}
await store.close();

const port = await freePort();
let server: ChildProcess;
const startServer = (): void => {
  server = spawn(process.execPath, [resolve('bin/parley.js'), 'serve'], {
    env: {
      ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_C2S_PORT: String(port), PARLEY_C2S_TLS_PORT: '0', PARLEY_WS_PORT: '0',
      PARLEY_HTTP_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_LOG_LEVEL: 'warn', PARLEY_MAX_CONNECTIONS_PER_IP: '100000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
};
process.on('exit', () => {
  server.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});
startServer();
await waitForPort(port);

// --- bookkeeping ---
const sentKeys: string[] = [];
const received = new Map<string, number>();
const acked = new Set<string>();
const unconfirmedAtCrash = new Set<string>();
const trace = new Map<string, string[]>();
const note = (key: string | undefined, what: string): void => {
  if (key) trace.set(key, [...(trace.get(key) ?? []), `${Date.now() % 100000} ${what}`]);
};
const stats = { resumed: 0, fresh: 0, resumeFailed: 0, cuts: 0, freshCuts: 0, streamErrors: 0, badH: 0 };

interface Out {
  xml: string;
  key?: string;
  /** Written on some connection (the server may have it). */
  written?: boolean;
}

const ELEMENT = /^(?:<\?xml[^>]*\?>|<stream:stream[^>]*>|<([\w:]+)\b[^>]*?(?:\/>|>[\s\S]*?<\/\1>))/;

class SoakClient {
  private socket: net.Socket | null = null;
  private buf = '';
  private waiter: { match: (el: string) => boolean; resolve: (el: string) => void } | null = null;
  up = false;
  private counting = false;
  private id = '';
  private inH = 0;
  /** Stanzas sent in this stream-management session not yet acknowledged, and how many were. */
  private out: Out[] = [];
  private outAcked = 0;
  private seq = 0;
  private sinceR = 0;
  private draining = false;

  constructor(readonly n: number) {}

  get pendingOut(): number {
    return this.out.length;
  }

  private connecting = false;

  async connect(resume: boolean): Promise<void> {
    if (this.connecting) return;
    this.connecting = true;
    try {
      for (;;) {
        try {
          await this.handshake(resume);
          return;
        } catch {
          const socket = this.socket;
          this.socket = null;
          this.up = false;
          socket?.destroy();
          await sleep(200); // the server may be restarting
        }
      }
    } finally {
      this.connecting = false;
    }
  }

  private async handshake(resume: boolean): Promise<void> {
    this.counting = false;
    this.buf = '';
    const socket = net.connect(port, '127.0.0.1');
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => socket === this.socket && this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.up = false;
      this.waiter = null;
      if (!stopping) void this.reconnectLater();
    });
    await new Promise<void>((ok, fail) => (socket.once('connect', ok), socket.once('error', fail)));
    const header = `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost" version="1.0">`;
    socket.write(header);
    await this.next((el) => el.startsWith('<stream:features'));
    socket.write(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\0${usernames[this.n]}\0pw`).toString('base64')}</auth>`);
    await this.next((el) => el.startsWith('<success'));
    socket.write(header);
    await this.next((el) => el.startsWith('<stream:features'));
    if (resume && this.id) {
      socket.write(`<resume xmlns="${NS_SM}" previd="${this.id}" h="${this.inH}"/>`);
      const answer = await this.next((el) => el.startsWith('<resumed') || el.startsWith('<failed'));
      if (answer.startsWith('<resumed')) {
        stats.resumed++;
      note(`client${this.n}`, `resumed: ${answer} (my h ${this.inH})`);
        for (const o of this.out) socket.write(o.xml), (o.written = true), note(o.key, `resent after resume`);
        this.up = true;
        this.requestAck();
        return;
      }
      stats.resumeFailed++;
      if (!kill) console.error(`client ${this.n}: resumption failed: ${answer}`);
    }
    // A fresh session: what the old one never had acknowledged is not resent (see the header);
    // what was never written goes out on the new one.
    for (const o of this.out) if (o.key && o.written) unconfirmedAtCrash.add(o.key);
    const carried = this.out.filter((o) => !o.written && o.key);
    this.out = [];
    this.outAcked = 0;
    socket.write(`<iq type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>soak</resource></bind></iq>`);
    await this.next((el) => el.includes('id="bind"'));
    socket.write(`<enable xmlns="${NS_SM}" resume="true"/>`);
    const enabled = await this.next((el) => el.startsWith('<enabled'));
    this.id = /id="([^"]+)"/.exec(enabled)![1]!;
    stats.fresh++;
    this.up = true;
    // Messages queued during this handshake too, after the presence, in order.
    const waiting = [...carried, ...this.out];
    this.out = [];
    this.write({ xml: '<presence/>' });
    for (const o of waiting) this.write(o);
  }

  private async reconnectLater(): Promise<void> {
    await sleep(Math.random() * 300);
    await this.connect(true);
  }

  private next(match: (el: string) => boolean): Promise<string> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      this.waiter = { match, resolve };
      const timer = setTimeout(() => reject(new Error('handshake timeout')), 5000);
      socket?.once('close', () => (clearTimeout(timer), reject(new Error('closed'))));
    });
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      this.buf = this.buf.replace(/^\s+/, '');
      const m = ELEMENT.exec(this.buf);
      if (!m) return;
      this.buf = this.buf.slice(m[0].length);
      this.handle(m[0], m[1]);
    }
  }

  private handle(el: string, name: string | undefined): void {
    if (name === 'message' || name === 'presence' || name === 'iq') {
      if (name === 'message') {
        const key = /<body>(m\/\d+\/\d+)<\/body>/.exec(el)?.[1];
        if (key) received.set(key, (received.get(key) ?? 0) + 1);
        note(key, `received by ${this.n} (h ${this.inH + 1}${this.counting ? '' : ', not counting'})`);
      }
      if (this.counting) this.inH++;
    } else if (name === 'r') {
      this.socket?.write(`<a xmlns="${NS_SM}" h="${this.inH}"/>`);
    } else if (name === 'a' && this.counting) {
      this.ack(Number(/ h="(\d+)"/.exec(el)![1]));
    } else if (name === 'enabled') {
      // Counting starts here, not when the handshake code resumes: stanzas in the same read follow.
      this.inH = 0;
      this.counting = true;
    } else if (name === 'resumed') {
      this.ack(Number(/ h="(\d+)"/.exec(el)![1]), 'resumed');
      this.counting = true;
    } else if (name === 'stream:error') {
      stats.streamErrors++;
      console.error(`client ${this.n}: ${el}`);
    }
    if (this.waiter?.match(el)) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(el);
    }
  }

  private ack(h: number, how = 'a'): void {
    const count = h - this.outAcked;
    const written = this.out.filter((o) => o.written).length;
    if (count < 0 || count > written) {
      stats.badH++;
      console.error(`client ${this.n}: <${how} h=${h}/> but ${this.outAcked} acknowledged and ${written} more written (queue ${this.out.length})`);
    }
    for (const o of this.out.splice(0, count)) if (o.key) acked.add(o.key), note(o.key, `acked h=${h}`);
    this.outAcked = h;
  }

  private write(o: Out): void {
    this.out.push(o);
    if (this.up && !this.draining) this.socket!.write(o.xml), (o.written = true), note(o.key, `written by ${this.n}`);
  }

  requestAck(): void {
    this.sinceR = 0;
    if (this.up) this.socket!.write(`<r xmlns="${NS_SM}"/>`);
  }

  sendOne(): void {
    const to = (this.n + 1 + Math.floor(Math.random() * (M - 1))) % M;
    const key = `m/${this.n}/${this.seq++}`;
    sentKeys.push(key);
    this.write({ key, xml: `<message type="chat" to="${jids[to]}" id="${key}"><body>${key}</body></message>` });
    if (++this.sinceR >= 5) this.requestAck();
  }

  /** Drops the connection, then resumes — or, 30 % of the time, drains and logs in afresh. */
  cut(): void {
    if (!this.up || !this.socket || this.draining) return;
    stats.cuts++;
    if (Math.random() < 0.3) return void this.cutFresh();
    note(`client${this.n}`, `cut, h=${this.inH}`);
    this.socket.destroy(); // 'close' schedules the resumption
  }

  /** Waits until everything written is acknowledged, tells the server what arrived, stops reading, starts a new session. */
  private async cutFresh(): Promise<void> {
    this.draining = true;
    this.requestAck();
    for (let i = 0; i < 100 && this.up && this.out.some((o) => o.written); i++) await sleep(20);
    const socket = this.socket;
    this.draining = false;
    if (!this.up || !socket || this.out.some((o) => o.written)) {
      // Dropped meanwhile, or slow: carry on, writing what waited, in order.
      if (this.up && socket) for (const o of this.out) if (!o.written) socket.write(o.xml), (o.written = true), note(o.key, `written after drain`);
      return;
    }
    this.up = false;
    this.socket = null;
    socket.end(`<a xmlns="${NS_SM}" h="${this.inH}"/>`);
    note(`client${this.n}`, `fresh cut after <a h=${this.inH}/>`);
    this.id = '';
    stats.freshCuts++;
    void this.reconnectLater();
  }
}

let stopping = false;
const clients = Array.from({ length: M }, (_, i) => new SoakClient(i));
for (const c of clients) await c.connect(false);

const started = Date.now();
const timers: NodeJS.Timeout[] = [];
for (const c of clients) {
  timers.push(setInterval(() => c.sendOne(), 1000 / rate));
  const dropLater = (): void => {
    timers.push(setTimeout(() => (c.cut(), dropLater()), 500 + Math.random() * 3000));
  };
  dropLater();
}
let killedAt = -1;
if (kill) {
  setTimeout(async () => {
    killedAt = Date.now() - started;
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    await sleep(300);
    startServer();
  }, seconds * 400);
}
await sleep(seconds * 1000);
stopping = true;
for (const t of timers) clearInterval(t), clearTimeout(t);
stopping = false; // clients still reconnect if a cut is in progress

// Settle: every client connected, its messages acknowledged, deliveries in.
const deadline = Date.now() + 20_000;
const expected = (): string[] => (kill ? [...acked] : sentKeys);
while (Date.now() < deadline) {
  for (const c of clients) if (c.pendingOut > 0) c.requestAck();
  const allUp = clients.every((c) => c.up && c.pendingOut === 0);
  if (allUp && expected().every((k) => received.has(k))) break;
  await sleep(250);
}
stopping = true;

const lost = sentKeys.filter((k) => !received.has(k));
const duplicated = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
console.log(`Parley stream-management soak: ${M} clients, ${rate} msg/s each for ${seconds}s${kill ? `, server killed (SIGKILL) at ${(killedAt / 1000).toFixed(1)}s and restarted` : ''}`);
console.log(`connection drops ${stats.cuts} (${stats.freshCuts} followed by a fresh login): resumptions ${stats.resumed}, failed resumptions ${stats.resumeFailed}, fresh logins ${stats.fresh - M}, stream errors ${stats.streamErrors}, inconsistent h ${stats.badH}`);
console.log(`sent ${sentKeys.length}, received ${received.size}, lost ${lost.length}, duplicated ${duplicated}`);
let ok = lost.length === 0 && duplicated === 0;
if (kill) {
  const ackedLost = [...acked].filter((k) => !received.has(k));
  const unconfirmed = [...unconfirmedAtCrash];
  console.log(`acknowledged by the server ${acked.size}, acknowledged but not delivered ${ackedLost.length}`);
  console.log(`never acknowledged (in flight at the kill, not resent) ${unconfirmed.length}, of which delivered anyway ${unconfirmed.filter((k) => received.has(k)).length}`);
  console.log(`lost beyond those never acknowledged: ${lost.filter((k) => !unconfirmedAtCrash.has(k)).length}`);
  ok = ackedLost.length === 0;
  if (ackedLost.length) console.log(`acknowledged but not delivered: ${ackedLost.slice(0, 20).join(' ')}`);
} else if (lost.length) console.log(`lost: ${lost.slice(0, 20).join(' ')}`);
for (const k of [...lost].map((k) => `client${k.split('/')[1]}`)) console.log(k, trace.get(k)?.slice(-12));
for (const k of [...lost, ...[...received].filter(([, n]) => n > 1).map(([k]) => k)].slice(0, 6)) console.log(k, trace.get(k));
if (duplicated) console.log(`duplicated: ${[...received].filter(([, n]) => n > 1).map(([k]) => k).slice(0, 20).join(' ')}`);
if (lost.length) {
  const check = await openSqliteStore(sqliteFile(dataDir));
  const stored = check.db.prepare('SELECT user_id, stanza FROM offline_messages').all() as { user_id: number; stanza: string }[];
  const inStore = lost.filter((k) => stored.some((r) => r.stanza.includes(`>${k}<`)));
  console.log(`of the lost, still in offline storage: ${inStore.length} ${inStore.slice(0, 10).join(' ')}`);
  await check.close();
}
process.exit(ok ? 0 : 1);
