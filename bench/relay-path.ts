// CPU time of Parley's own code per relayed 1-1 message, in process and without the kernel: clients
// are fake sockets handed to the real SocketConnection, so parsing, the session, routing, the
// modules, serialisation and the per-tick write path all run, but no syscall does. On a loaded
// machine this moves far less than the socket benchmarks; for A/B comparisons of the relay path.
//   node dist/bench/relay-path.js [--pairs 250] [--messages 100000] [--batch 50] [--profile FILE]
// --profile writes a CPU profile of the measured part alone (open it in Chrome DevTools).
// --hooks counts the async resources created per message during the measured part (async_hooks init:
// PROMISE, TickObject for process.nextTick, Immediate, Timeout…); the hook itself slows the run, so
// its CPU figures are not comparable with a run without it.
// --heap prints where the measured part allocates (V8's sampling heap profiler, every ~1 KB, objects
// collected since included): bytes per message by function, the most first.
// --callgrind: when run under `valgrind --tool=callgrind --instr-atstart=no`, counts the instructions of
// the measured part (repeatable where CPU time is not): prints instructions per message.
import { createHook } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { promisify } from 'node:util';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Socket } from 'node:net';
import { startTestServer } from '../e2e/support/server.js';
import { SocketConnection } from '../src/transport/socket.js';
import { DEFAULT_LIMITS } from '../src/xml/stream-parser.js';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '250' }, messages: { type: 'string', default: '100000' }, batch: { type: 'string', default: '50' }, profile: { type: 'string' }, callgrind: { type: 'boolean', default: false }, hooks: { type: 'boolean', default: false }, heap: { type: 'boolean', default: false } } });
const callgrind = (...args: string[]): Promise<unknown> => promisify(execFile)('callgrind_control', [...args, String(process.pid)]);
const pairs = Number(values.pairs);
const total = Number(values.messages);
const batch = Number(values.batch);

/** Just enough of a net.Socket for SocketConnection: what it writes is counted (and scanned for bodies). */
class FakeSocket extends EventEmitter {
  writable = true;
  remoteAddress = '127.0.0.1';
  received = '';
  bodies = 0;
  keep = true;
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  pause(): this { return this; }
  resume(): this { return this; }
  write(data: string, done?: () => void): boolean {
    if (this.keep) this.received += data;
    for (let i = data.indexOf('<body>'); i >= 0; i = data.indexOf('<body>', i + 6)) this.bodies++;
    if (done) process.nextTick(done);
    return true;
  }
  end(data?: string): void {
    if (data) this.write(data);
    this.writable = false;
  }
  destroy(): void {
    this.writable = false;
  }
  feed(text: string): void {
    this.emit('data', Buffer.from(text));
  }
}

const test = await startTestServer({ max_connections_per_ip: 100_000 });
const { core } = test.server;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const until = async (ok: () => boolean, what: string): Promise<void> => {
  for (let i = 0; !ok(); i++) {
    if (i > 20_000) throw new Error(`timed out: ${what}`);
    await (i < 1000 ? tick() : new Promise((r) => setTimeout(r, 5)));
  }
};

const header = `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="${test.domain}" version="1.0">`;
const users: Awaited<ReturnType<typeof test.createUser>>[] = [];
const sockets: FakeSocket[] = [];
for (let i = 0; i < pairs * 2; i++) {
  const user = await test.createUser(`u${i}`, 'pw');
  const socket = new FakeSocket();
  core.accept(new SocketConnection(socket as unknown as Socket, 'tcp', DEFAULT_LIMITS, null));
  socket.feed(header);
  await until(() => socket.received.includes('</stream:features>'), 'features');
  socket.feed(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\0${user.username}\0pw`).toString('base64')}</auth>`);
  await until(() => socket.received.includes('<success'), 'SASL');
  socket.feed(header);
  await until(() => socket.received.split('</stream:features>').length === 3, 'features after SASL');
  socket.feed('<iq type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>bench</resource></bind></iq><presence/>');
  await until(() => socket.received.includes('</jid>'), 'bind');
  users.push(user);
  sockets.push(socket);
}
await tick();
for (const s of sockets) {
  s.keep = false;
  s.received = '';
}

const message = (i: number, seq: number): string => {
  const partner = users[i % 2 === 0 ? i + 1 : i - 1]!;
  return `<message type="chat" to="${partner.jid}" id="m${i}-${seq}"><body>t${seq}.000</body><extraParams xmlns="jabber:client"><save_to_history>0</save_to_history></extraParams></message>`;
};
const delivered = (): number => sockets.reduce((n, s) => n + s.bodies, 0);

/** Sends `count` messages, `batch` per event-loop turn, round-robin over the clients; waits for all. */
async function run(count: number): Promise<void> {
  const target = delivered() + count;
  for (let sent = 0; sent < count; ) {
    for (let k = 0; k < batch && sent < count; k++, sent++) {
      const i = sent % sockets.length;
      sockets[i]!.feed(message(i, sent));
    }
    await tick();
  }
  await until(() => delivered() >= target, 'deliveries');
}

await run(Math.min(total, 20_000)); // warm-up: the JIT compiles the path
const inspector = values.profile || values.heap ? new Session() : null;
if (inspector) inspector.connect();
if (inspector && values.heap) {
  await inspector.post('HeapProfiler.enable');
  await inspector.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
if (inspector && values.profile) {
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
}
if (values.callgrind) await callgrind('-z');
if (values.callgrind) await callgrind('-i', 'on');
const asyncInits = new Map<string, number>();
const hook = values.hooks ? createHook({ init: (_id, type) => void asyncInits.set(type, (asyncInits.get(type) ?? 0) + 1) }) : null;
// The bench's own turns (one setImmediate per batch and the waits) are counted too: see the Immediate line.
hook?.enable();
const before = process.cpuUsage();
const started = performance.now();
await run(total);
hook?.disable();
if (hook) console.log(`async resources created per message: ${[...asyncInits].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${(n / total).toFixed(3)}`).join(', ')} (the bench itself: one Immediate per ${batch} messages)`);
if (values.callgrind) {
  await callgrind('-d');
  await callgrind('-i', 'off');
  let instructions = 0;
  for (const f of readdirSync('.').filter((n) => n.startsWith(`callgrind.out.${process.pid}.`))) {
    instructions += Number(/^summary: (\d+)/m.exec(readFileSync(f, 'utf8'))?.[1] ?? 0);
  }
  console.log(`callgrind: ${(instructions / total).toFixed(0)} instructions per message`);
}
const cpu = process.cpuUsage(before);
const wall = performance.now() - started;
if (inspector && values.profile) writeFileSync(values.profile, JSON.stringify((await inspector.post('Profiler.stop')).profile));
if (inspector && values.heap) {
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  interface HeapNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] }
  const bytes = new Map<string, number>();
  let all = 0;
  const walk = (n: HeapNode): void => {
    const url = n.callFrame.url.replace(/^file:\/\/.*?\/dist\//, '');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
    bytes.set(key, (bytes.get(key) ?? 0) + n.selfSize);
    all += n.selfSize;
    n.children.forEach(walk);
  };
  walk(profile.head as unknown as HeapNode);
  console.log(`allocated (sampled): ${(all / total).toFixed(0)} bytes per message; by function:`);
  for (const [k, b] of [...bytes].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`  ${(b / total).toFixed(0).padStart(6)}  ${k}`);
}
console.log(`${total} messages between ${pairs * 2} clients: user ${((cpu.user) / total).toFixed(2)} µs + system ${(cpu.system / total).toFixed(2)} µs per message (wall ${((wall * 1000) / total).toFixed(2)} µs; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
await test.stop();
process.exit(0);
