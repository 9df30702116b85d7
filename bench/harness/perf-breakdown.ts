// Where a server's CPU goes, by thread and by kind of work, from a `perf record -e cpu-clock -g` of
// the process (run with node --perf-basic-prof so that JavaScript frames have names). Each sample is
// put in the first category whose pattern matches its call stack, so the order of the rules matters:
// a response written from a Fastify hook counts as the write, not as Fastify. cpu-clock samples are
// CPU time (a thread that waits is not sampled), so they hold on a machine shared with other work.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

type Rules = [string, RegExp][];

const EVENT_LOOP: Rules = [
  ['GC on the event loop', /Scavenge|Heap::Collect|MarkCompact|Sweeper::|GCTracer|ConcurrentMarking|IncrementalMarking|MinorMC|CollectGarbage/],
  ['session lookup (getSession, token digest)', /sessions\.js|tokenDigest|crypto\/hash/],
  ['worker handoff (post the task, take the answer)', /MessagePort::PostMessage|ValueSerializer|ValueDeserializer|Message::Deserialize|Message::Serialize/],
  ['response write (writev, loopback TCP)', /writev|Writev|tcp_sendmsg|__x64_sys_write|stream_base_commons|DoTryWrite|LibuvStreamWrap/],
  ['request log, metrics', /request-log|prom-client|pino|sonic-boom/],
  ['query string, params', /qs\/lib|params\.js|querystring/],
  ['Fastify routing, hooks, reply', /fastify|find-my-way|avvio/],
  ['Node HTTP parser and server', /llhttp|_http_|HTTPParser|parserOn/],
  ['socket read, epoll', /uv__read|__x64_sys_read|tcp_recvmsg|epoll_wait|ep_poll/],
];
const READ_WORKER: Rules = [
  ['GC on the worker', /Scavenge|Heap::Collect|MarkCompact|Sweeper::|GCTracer|ConcurrentMarking|IncrementalMarking|MinorMC|CollectGarbage/],
  ['SQL prepare (parse, plan)', /sqlite3RunParser|sqlite3Prepare|sqlite3LockAndPrepare/],
  ['SQL step (VDBE, B-trees, functions)', /sqlite3_step|sqlite3VdbeExec/],
  ['rows to JavaScript (better-sqlite3)', /better_sqlite3\.node/],
  ['encode and post the answer', /TextEncoder|encodeInto|encodeUtf8|MessagePort::PostMessage|ValueSerializer/],
  ['page JSON (pageJson, items, times)', /page-json|itemJson|read-messages\.js|read-dialogs\.js|iso-seconds/],
  ['chat service (params, checks, views)', /\/chat\/|params\.js/],
  ['take the task (deserialise)', /ValueDeserializer|Message::Deserialize/],
];
const OTHER: Rules = [
  ['optimising compiler', /compiler::|Compil|Maglev|Turbofan/],
  ['GC helpers (marking, sweeping)', /Mark|Sweep|Scaveng|Evacuat|Heap|Remembered|Slot/],
];

export interface Breakdown {
  samples: number;
  /** [thread group, category, samples] */
  rows: [string, string, number][];
}

/** Reads `perf script` of a recording and sorts its samples. `mainTid` is the event loop's thread (the process id). */
export async function perfBreakdown(file: string, mainTid: number): Promise<Breakdown> {
  const { stdout } = await promisify(execFile)('perf', ['script', '-i', file, '-F', 'tid,ip,sym,dso'], { maxBuffer: 1 << 30 });
  const counts = new Map<string, number>();
  let samples = 0;
  const count = (tid: number, frames: string): void => {
    samples++;
    const group = tid === mainTid ? 'event loop' : /worker::Worker::Run/.test(frames) ? 'read workers' : 'other threads (V8, libuv)';
    const rules = group === 'event loop' ? EVENT_LOOP : group === 'read workers' ? READ_WORKER : OTHER;
    const category = rules.find(([, re]) => re.test(frames))?.[0] ?? 'other';
    const key = `${group}\t${category}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  let tid = -1;
  let frames: string[] = [];
  for (const line of stdout.split('\n')) {
    if (/^\s*\d+\s*$/.test(line)) {
      if (tid >= 0) count(tid, frames.join('\n'));
      tid = Number(line.trim());
      frames = [];
    } else if (line.startsWith('\t')) frames.push(line.trim());
  }
  if (tid >= 0) count(tid, frames.join('\n'));
  const rows = [...counts].map(([k, n]) => [...k.split('\t'), n] as [string, string, number]);
  const groupTotal = (g: string) => rows.filter((r) => r[0] === g).reduce((s, r) => s + r[2], 0);
  rows.sort((a, b) => groupTotal(b[0]) - groupTotal(a[0]) || a[0].localeCompare(b[0]) || b[2] - a[2]);
  return { samples, rows };
}

/** The breakdown as a Markdown table: share of the server's samples, and µs per request at `hz` samples per CPU second. */
export function breakdownTable(b: Breakdown, requests: number, hz: number): string {
  const us = (n: number) => ((n * 1e6) / hz / Math.max(1, requests)).toFixed(0);
  const lines = ['| thread | work | share of server CPU | µs per request |', '| --- | --- | --- | --- |'];
  let group = '';
  for (const [g, c, n] of b.rows) {
    if (g !== group) {
      const total = b.rows.filter((r) => r[0] === g).reduce((s, r) => s + r[2], 0);
      lines.push(`| **${g}** | all | **${((100 * total) / b.samples).toFixed(1)} %** | **${us(total)}** |`);
      group = g;
    }
    lines.push(`| | ${c} | ${((100 * n) / b.samples).toFixed(1)} % | ${us(n)} |`);
  }
  lines.push(`| all | | 100 % (${b.samples} samples) | ${us(b.samples)} |`);
  return lines.join('\n');
}
