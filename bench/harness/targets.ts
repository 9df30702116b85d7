// Issue 17's targets 1–4, judged from side-by-side runs (this run's figures, or the --json files of
// several runs): one row per target with what was measured, the goal and the verdict.
//   1  stored (history) at 1,000 × 8: every message delivered and stored, p99 ≤ 100 ms, Parley's CPU per
//      message ≤ ejabberd's per unstored message in the same run (plain ejabberd ignores save_to_history)
//   2  stored at 500 msg/s (1,000 × 0.5): Parley's CPU per message ≤ 1.5 × target 1's
//   3  stored on PostgreSQL: every message stored, parley-pg's CPU per message ≤ 2 × parley's (SQLite),
//      PostgreSQL's own CPU reported beside it
//   4  unstored 1-1 (chat) at 1,000 × 8: Parley's CPU per message ≤ ⅓ of ejabberd's

export interface TargetRow {
  server: string;
  sent: number;
  received: number;
  latP99: number;
  cpuUsPerMsg: number;
  storeCpuUsPerMsg: number;
  stored: number | null;
}

export interface TargetRun {
  scenario: string;
  started: string;
  commit?: string;
  users: number;
  rate: number;
  seconds: number;
  rows: TargetRow[];
}

interface Figures {
  sent: number;
  received: number;
  stored: number | null;
  latP99: number;
  cpu: number;
  storeCpu: number;
}

const GOAL_LOAD = { users: 1000, rate: 8 };
const LOW_RATE_MAX = 500; // msg/s: a history run at or below this offered rate is target 2's

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** One server's figures in a run: medians over repeats for CPU and p99, sums for counts. */
function figures(run: TargetRun, server: string): Figures | null {
  const rows = run.rows.filter((r) => r.server === server && Number.isFinite(r.cpuUsPerMsg));
  if (!rows.length) return null;
  const sum = (f: (r: TargetRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  return {
    sent: sum((r) => r.sent),
    received: sum((r) => r.received),
    stored: rows.every((r) => r.stored !== null) ? sum((r) => r.stored!) : null,
    latP99: median(rows.map((r) => r.latP99)),
    cpu: median(rows.map((r) => r.cpuUsPerMsg)),
    storeCpu: median(rows.map((r) => r.storeCpuUsPerMsg)),
  };
}

const offered = (run: TargetRun) => run.users * run.rate;
const n = (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');
const pct = (part: number | null, whole: number) => (part === null || !whole ? '—' : `${n((part * 100) / whole, part === whole ? 0 : 1)} %`);
const when = (run: TargetRun) => `${run.started.slice(11, 16)} UTC${run.commit ? ` @ ${run.commit}` : ''}`;
const loadOf = (run: TargetRun) => `${n(run.users)} × ${run.rate} msg/s for ${run.seconds} s`;

function loadCaveat(run: TargetRun, goal: { users: number; rate: number }): string {
  return run.users === goal.users && run.rate === goal.rate ? '' : ` (measured at ${loadOf(run)}, the goal's load is ${n(goal.users)} × ${goal.rate})`;
}

/** A CPU-per-message verdict on a run that lost messages compares unlike loads: say so. */
function lossCaveat(f: Figures): string {
  return f.received < f.sent ? ` (only ${pct(f.received, f.sent)} delivered: the figures are not like for like)` : '';
}

/** The run with both servers measured, the highest offered rate first, among those `accept` takes. */
function pick(runs: TargetRun[], scenario: string, servers: string[], accept: (r: TargetRun) => boolean): TargetRun | null {
  const fit = runs.filter((r) => r.scenario === scenario && accept(r) && servers.every((s) => figures(r, s)));
  fit.sort((a, b) => offered(b) - offered(a));
  return fit[0] ?? null;
}

export function judgeTargets(runs: TargetRun[]): string {
  const lines: string[] = [];
  const row = (target: string, measured: string, goal: string, verdict: string) => lines.push(`| ${target} | ${measured} | ${goal} | ${verdict} |`);
  lines.push('| target | measured | goal | verdict |', '| --- | --- | --- | --- |');

  // 1
  const r1 = pick(runs, 'history', ['parley', 'ejabberd'], (r) => offered(r) > LOW_RATE_MAX);
  const p1 = r1 ? figures(r1, 'parley')! : null;
  const goal1 = '100 % delivered and stored, p99 ≤ 100 ms, Parley µs/msg (stored) ≤ ejabberd µs/msg (unstored), 1,000 × 8';
  if (r1 && p1) {
    const e = figures(r1, 'ejabberd')!;
    const fails = [
      p1.received < p1.sent && 'not all delivered',
      (p1.stored ?? 0) < p1.sent && 'not all stored',
      !(p1.latP99 <= 100) && 'p99 > 100 ms',
      !(p1.cpu <= e.cpu) && 'CPU above ejabberd unstored',
    ].filter(Boolean);
    row(
      '1. stored at load',
      `Parley ${n(p1.cpu, 1)} µs/msg vs ejabberd ${n(e.cpu, 1)} (×${n(p1.cpu / e.cpu, 2)}); delivered ${pct(p1.received, p1.sent)}, stored ${pct(p1.stored, p1.sent)}, p99 ${n(p1.latP99, 1)} ms — history ${when(r1)}`,
      goal1,
      (fails.length ? `not met: ${fails.join(', ')}` : 'met') + loadCaveat(r1, GOAL_LOAD),
    );
  } else row('1. stored at load', '—', goal1, 'not measured: needs a history run above 500 msg/s with parley and ejabberd');

  // 2
  const r2 = pick(runs, 'history', ['parley'], (r) => offered(r) <= LOW_RATE_MAX);
  const goal2 = '≤ 1.5 × target 1\'s Parley µs/msg, 500 msg/s (1,000 × 0.5)';
  if (r2) {
    const p2 = figures(r2, 'parley')!;
    const ratio = p1 ? p2.cpu / p1.cpu : NaN;
    row(
      '2. stored at low rate',
      `Parley ${n(p2.cpu, 1)} µs/msg${p1 ? ` = ×${n(ratio, 2)} target 1's ${n(p1.cpu, 1)}` : ''}; delivered ${pct(p2.received, p2.sent)}, stored ${pct(p2.stored, p2.sent)}, p99 ${n(p2.latP99, 1)} ms — history ${when(r2)}`,
      goal2,
      p1 ? (ratio <= 1.5 ? 'met' : 'not met') + lossCaveat(p2) + lossCaveat(p1) + loadCaveat(r2, { users: 1000, rate: 0.5 }) : 'not judged: no target 1 run given (pass its --json too)',
    );
  } else row('2. stored at low rate', '—', goal2, 'not measured: needs a history run at ≤ 500 msg/s with parley');

  // 3
  const r3 = (r1 && figures(r1, 'parley-pg') ? r1 : null) ?? pick(runs, 'history', ['parley', 'parley-pg'], () => true);
  const goal3 = 'every message stored, parley-pg µs/msg ≤ 2 × parley (SQLite) µs/msg, PostgreSQL CPU reported';
  if (r3) {
    const s = figures(r3, 'parley')!, p = figures(r3, 'parley-pg')!;
    const ratio = p.cpu / s.cpu;
    const fails = [(p.stored ?? 0) < p.sent && 'not all stored', !(ratio <= 2) && 'CPU above 2 × SQLite'].filter(Boolean);
    row(
      '3. stored on PostgreSQL',
      `parley-pg ${n(p.cpu, 1)} µs/msg (+ PostgreSQL ${n(p.storeCpu, 1)}) vs parley ${n(s.cpu, 1)} (×${n(ratio, 2)}); stored ${pct(p.stored, p.sent)}, p99 ${n(p.latP99, 1)} ms — history ${when(r3)}`,
      goal3,
      (fails.length ? `not met: ${fails.join(', ')}` : 'met') + loadCaveat(r3, GOAL_LOAD),
    );
  } else row('3. stored on PostgreSQL', '—', goal3, 'not measured: needs a history run with parley and parley-pg');

  // 4
  const r4 = pick(runs, 'chat', ['parley', 'ejabberd'], () => true);
  const goal4 = 'Parley µs/msg ≤ ⅓ of ejabberd µs/msg, unstored 1-1 at 1,000 × 8';
  if (r4) {
    const p = figures(r4, 'parley')!, e = figures(r4, 'ejabberd')!;
    const ratio = p.cpu / e.cpu;
    row(
      '4. unstored chat',
      `Parley ${n(p.cpu, 1)} µs/msg vs ejabberd ${n(e.cpu, 1)} (×${n(ratio, 2)}); delivered ${pct(p.received, p.sent)}, p99 ${n(p.latP99, 1)} ms — chat ${when(r4)}`,
      goal4,
      (ratio <= 1 / 3 ? 'met' : 'not met') + lossCaveat(p) + lossCaveat(e) + loadCaveat(r4, GOAL_LOAD),
    );
  } else row('4. unstored chat', '—', goal4, 'not measured: needs a chat run with parley and ejabberd');
  return lines.join('\n');
}
