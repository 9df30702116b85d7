// Runs tsung 1.7.0 (Debian) against one server: renders the scenario from bench/peers/, builds the
// patched ts_jabber module into the run folder (bench/peers/ts_jabber.patch applied to the source
// Debian ships, compiled with erlc, loaded ahead of tsung's own with ERL_ZFLAGS=-pa), runs tsung
// without epmd and without its web GUI, and reads its statistics back.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, startGroup, stopGroup, TreeMonitor } from './proc.js';

/** bench/peers in the source tree (this file runs from dist/bench/harness). */
export const PEERS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bench/peers');
const TSUNG_SRC = '/usr/lib/x86_64-linux-gnu/tsung/tsung-1.7.0';

export function render(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    if (!(key in vars)) throw new Error(`template variable ${key} not set`);
    return String(vars[key]);
  });
}

export function peerFile(name: string): string {
  return readFileSync(join(PEERS, name), 'utf8');
}

/** Builds the patched ts_jabber.beam into `<dir>/ebin` once; returns that folder. */
export function buildPatchedJabber(dir: string): string {
  const ebin = join(dir, 'ebin');
  if (existsSync(join(ebin, 'ts_jabber.beam'))) return ebin;
  mkdirSync(ebin, { recursive: true });
  const src = join(dir, 'ts_jabber.erl');
  copyFileSync(join(TSUNG_SRC, 'src/ts_jabber.erl'), src);
  execFileSync('patch', ['-s', src, join(PEERS, 'ts_jabber.patch')], { stdio: 'inherit' });
  execFileSync('erlc', ['-o', ebin, '-I', join(TSUNG_SRC, 'include'), src], { stdio: ['ignore', 'ignore', 'inherit'] });
  return ebin;
}

export interface TsungScenario {
  session: string; // session-<name>.xml
  vars: Record<string, string | number>;
  extraEnv?: Record<string, string>;
}

export interface TsungResult {
  logDir: string;
  exitCode: number | null;
  timedOut: boolean;
  wallMs: number;
  cpuMs: number; // tsung's whole process tree
  counts: Record<string, number>;
  latencies: number[]; // xmpp_msg_latency samples (ms), sorted
  loginMs: number[]; // tr_login transaction durations (ms), sorted
  sentAt: { min: number; max: number } | null;
  recvAt: { min: number; max: number } | null;
  monitor: TreeMonitor;
}

/**
 * Runs one tsung scenario; kills tsung's process group after `timeoutMs`. `during` runs while tsung
 * is running (the harness reads server memory there).
 */
export async function runTsung(runDir: string, scenario: TsungScenario, timeoutMs: number, during?: () => Promise<void>): Promise<TsungResult> {
  const ebin = buildPatchedJabber(runDir);
  const logDir = join(runDir, `tsung-${Date.now()}`);
  mkdirSync(logDir, { recursive: true });
  const session = render(peerFile(scenario.session), { ...scenario.vars, LOGIN: peerFile('login.xml') });
  const xml = render(peerFile('tsung.xml'), { ...scenario.vars, SESSION: session });
  const conf = join(logDir, 'scenario.xml');
  writeFileSync(conf, xml);
  const distPort = await freePort();
  const env = {
    ...process.env,
    ...scenario.extraEnv,
    HOME: runDir,
    // No epmd, distribution on loopback only; the patched module ahead of tsung's own.
    ERL_AFLAGS: `-start_epmd false -erl_epmd_port ${distPort} -kernel inet_dist_use_interface {127,0,0,1}`,
    ERL_ZFLAGS: `-pa ${ebin}`,
  };
  const started = Date.now();
  const child = startGroup('sh', ['-c', `ulimit -n $(ulimit -Hn) && exec tsung -n -I 127.0.0.1 -f ${conf} -l ${logDir} start`], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const monitor = new TreeMonitor(child.pid!, 200).start();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let timedOut = false;
  let timerHandle: NodeJS.Timeout | undefined;
  const timer = new Promise<'timeout'>((r) => (timerHandle = setTimeout(() => r('timeout'), timeoutMs)));
  const duringDone = during ? during().catch((e: unknown) => console.error('during-run probe failed:', e)) : Promise.resolve();
  const first = await Promise.race([exited.then(() => 'exit' as const), timer]);
  clearTimeout(timerHandle); // a pending timer would keep the command alive after its table
  if (first === 'timeout') {
    timedOut = true;
    console.error(`tsung exceeded ${timeoutMs} ms: stopping it`);
    await stopGroup(child, 3000);
  }
  const exitCode = await exited;
  monitor.stop();
  await duringDone;
  const wallMs = Date.now() - started;
  if (exitCode !== 0 && !timedOut) console.error(`tsung exited with ${exitCode}: ${stderr.slice(-2000)}`);
  // Erlang leaves nothing behind when tsung ends normally; make sure of it.
  await stopGroup(child, 1000);
  const cpuMs = monitor.samples.at(-1)?.cpuMs ?? 0;
  return { logDir, exitCode, timedOut, wallMs, cpuMs, monitor, ...readStats(logDir) };
}

function findFile(dir: string, name: string): string | null {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    } else if (entry.name === name) return p;
  }
  return null;
}

/** Reads tsung-fullstats.log (every sample and count, as Erlang terms) and tsung.log's totals. */
function readStats(logDir: string): Pick<TsungResult, 'counts' | 'latencies' | 'loginMs' | 'sentAt' | 'recvAt'> {
  const counts: Record<string, number> = {};
  const latencies: number[] = [];
  const loginMs: number[] = [];
  let sentAt: { min: number; max: number } | null = null;
  let recvAt: { min: number; max: number } | null = null;
  const widen = (r: { min: number; max: number } | null, v: number) => (r ? { min: Math.min(r.min, v), max: Math.max(r.max, v) } : { min: v, max: v });
  const full = findFile(logDir, 'tsung-fullstats.log');
  if (full) {
    const text = readFileSync(full, 'utf8');
    // {sample,Name,Value} and {count,Name} / {sum,Name,Value} appear inside lists, possibly wrapped.
    const re = /\{(sample|count|sum|sample_counter),\s*([a-z_0-9]+)(?:,\s*(\[[^\]]*\]|[-0-9.e+]+))?\}/g;
    for (const m of text.matchAll(re)) {
      const [, kind, name, raw] = m;
      const values = raw === undefined ? [] : raw.startsWith('[') ? raw.slice(1, -1).split(',').filter((v) => v.trim()).map(Number) : [Number(raw)];
      if (kind === 'count') counts[name!] = (counts[name!] ?? 0) + (values.length ? values.reduce((a, b) => a + b, 0) : 1);
      else if (kind === 'sum') counts[name!] = (counts[name!] ?? 0) + values.reduce((a, b) => a + b, 0);
      else if (kind !== 'sample') continue;
      else if (name === 'xmpp_msg_latency') for (const v of values) latencies.push(v);
      else if (name === 'tr_login') for (const v of values) loginMs.push(v);
      else if (name === 'xmpp_msg_sent_at') for (const v of values) sentAt = widen(sentAt, v);
      else if (name === 'xmpp_msg_recv_at') for (const v of values) recvAt = widen(recvAt, v);
    }
  }
  // Counters tsung keeps itself (errors, users) come from the last block of tsung.log.
  const log = findFile(logDir, 'tsung.log');
  if (log) {
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      const m = /^stats: (\S+) (\d+) (\d+)\s*$/.exec(line);
      if (m) counts[`log:${m[1]}`] = Number(m[3]);
      const u = /^stats: (users|connected|users_count|finish_users_count) (\S+) (\S+)/.exec(line);
      if (u) counts[`log:${u[1]}`] = Number(u[3]);
    }
  }
  latencies.sort((a, b) => a - b);
  loginMs.sort((a, b) => a - b);
  return { counts, latencies, loginMs, sentAt, recvAt };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}
