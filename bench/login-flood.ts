// Durable-write latency while someone floods POST /session.json with wrong passwords: before
// issue 14 each guess's scrypt ran on libuv's pool, where the store's WAL fdatasync waits.
//   node dist/bench/login-flood.js [--writes 60] [--guessers 16]
// Runs an in-process server (SQLite in a temporary data dir) with the sign-in throttle lifted so
// that every guess costs a scrypt, and reports POST /chat/Message.json latency (each one a durable
// history write) alone and during the flood.
import { parseArgs } from 'node:util';
import { startTestServer } from '../e2e/support/server.js';
import { restSession, restUrl } from '../e2e/support/rest.js';
import { signedSessionParams } from '../src/rest/harness.js';

const { values } = parseArgs({ options: { writes: { type: 'string', default: '60' }, guessers: { type: 'string', default: '16' } } });
const writes = Number(values.writes);
const guessers = Number(values.guessers);

const t = await startTestServer({ login_failures_per_account: 1_000_000, login_failures_per_ip: 1_000_000 });
const [ann, bob] = [await t.createUser(), await t.createUser()];
const token = await restSession(t, { login: ann.login, password: ann.password });
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(restUrl(t, path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function writeLatencies(): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < writes; i++) {
    const start = performance.now();
    const res = await post('/chat/Message.json', { recipient_id: bob.id, message: `m${i}`, save_to_history: 1 }, { 'qb-token': token });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`write ${res.status}`);
    ms.push(performance.now() - start);
  }
  return ms.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))].toFixed(1);
const report = (name: string, sorted: number[]) => console.log(`${name}: p50 ${pct(sorted, 50)} ms, p95 ${pct(sorted, 95)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`);

report('durable writes, quiet', await writeLatencies());
let guesses = 0;
let flooding = true;
const flood = Array.from({ length: guessers }, async () => {
  while (flooding) {
    const res = await post('/session.json', signedSessionParams(t.app, { user: { login: bob.login, password: `guess${guesses}` } }));
    await res.arrayBuffer();
    guesses++;
  }
});
const started = performance.now();
report(`durable writes, ${guessers} concurrent wrong-password guessers`, await writeLatencies());
flooding = false;
await Promise.all(flood);
console.log(`guesses answered: ${guesses} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
await t.stop();
