// Process helpers for the benchmark harness: start a process in its own group, follow its CPU and
// memory through /proc (the process and every descendant), and stop exactly what was started.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';

const TICKS = 100; // USER_HZ on Linux

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

interface Stat {
  ppid: number;
  pgrp: number;
  cpuMs: number; // utime + stime (this process only)
  childCpuMs: number; // cutime + cstime (children it has waited for)
}

function readStat(pid: number): Stat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(f[1]),
      pgrp: Number(f[2]),
      cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS,
      childCpuMs: ((Number(f[13]) + Number(f[14])) * 1000) / TICKS,
    };
  } catch {
    return null;
  }
}

/** utime + stime of one process in ms (not its descendants); throws when the process is gone. */
export function processCpu(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`no process ${pid} in /proc`);
  return stat.cpuMs;
}

/** The pid and all its live descendants. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Follows a process tree: CPU of every process ever seen in it (last value read before it exited,
 * plus what the survivors reaped), sampled every `intervalMs` with a timestamp so a window can be cut.
 */
export class TreeMonitor {
  private readonly last = new Map<number, number>();
  readonly samples: { t: number; cpuMs: number }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly root: number, private readonly intervalMs = 100) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Total CPU ms of the tree so far. */
  sample(): number {
    for (const pid of descendants(this.root)) {
      const s = readStat(pid);
      if (s) this.last.set(pid, s.cpuMs);
    }
    let total = 0;
    for (const v of this.last.values()) total += v;
    this.samples.push({ t: Date.now(), cpuMs: total });
    return total;
  }

  /** CPU ms spent between two wall-clock times (interpolated between samples). */
  cpuBetween(from: number, to: number): number {
    return this.at(to) - this.at(from);
  }

  private at(t: number): number {
    const s = this.samples;
    if (!s.length) return 0;
    if (t <= s[0]!.t) return s[0]!.cpuMs;
    for (let i = 1; i < s.length; i++) {
      if (s[i]!.t >= t) {
        const a = s[i - 1]!, b = s[i]!;
        return a.cpuMs + ((b.cpuMs - a.cpuMs) * (t - a.t)) / Math.max(1, b.t - a.t);
      }
    }
    return s.at(-1)!.cpuMs;
  }

  /** Resets the high-water mark of every process in the tree (clear_refs 5). */
  resetPeak(): void {
    for (const pid of descendants(this.root)) {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        /* gone or not ours */
      }
    }
  }

  /** Sum over the tree of VmHWM (peak RSS since resetPeak) in kB. */
  peakKb(): number {
    return descendants(this.root).reduce((sum, pid) => sum + statusKb(pid, 'VmHWM'), 0);
  }

  rssKb(): number {
    return descendants(this.root).reduce((sum, pid) => sum + statusKb(pid, 'VmRSS'), 0);
  }
}

/** Spawns in a new process group so that stop() can end the group and nothing else. */
export function startGroup(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(cmd, args, { ...options, detached: true });
  if (!child.pid) throw new Error(`could not start ${cmd}`);
  return child;
}

/** SIGTERM the group, then SIGKILL after `graceMs`; resolves when the leader has exited. */
export async function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pgid = child.pid!;
  const members = (): number[] => descendants(pgid);
  const signal = (sig: NodeJS.Signals): void => {
    // The group first, then any descendant that left it (setpriv keeps the group; erl's children too).
    try {
      process.kill(-pgid, sig);
    } catch {
      /* already gone */
    }
    for (const pid of members()) {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
  const remaining = members();
  signal('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) signal('SIGKILL');
  await Promise.race([exited, sleep(2000)]);
  // Anything of ours still alive is killed by pid (never by name).
  for (const pid of remaining) {
    if (readStat(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`process exited before port ${port} opened`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

/** Waits until the tree uses less than `maxPct` of a core over `windowMs` (Erlang VMs spin after start). */
export async function waitIdle(mon: TreeMonitor, maxPct = 5, windowMs = 1000, timeoutMs = 30000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let pct = 100;
  while (Date.now() < deadline) {
    const a = mon.sample();
    await sleep(windowMs);
    const b = mon.sample();
    pct = ((b - a) * 100) / windowMs;
    if (pct < maxPct) break;
  }
  return pct;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
