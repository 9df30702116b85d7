// CPU per REST list page as a read worker computes it (rest/page-render.ts tasks), in this process,
// without HTTP or threads: the figure that rendering pages in SQLite changes, measured with far less
// noise than a load test on a shared machine. Runs the tasks of one or more builds over one database
// file (seeded by rest-history: `BENCH_KEEP_DIR=1 node dist/bench/rest-history.js --seconds 1
// --only floor` prints the directory it kept), alternating builds case by case.
//   node dist/bench/rest-tasks.js --db DIR/parley.sqlite [--builds /path/a,/path/b] [--rounds 3] [--pages 400] [--callgrind]
// --callgrind: under `valgrind --tool=callgrind --instr-atstart=no node dist/bench/rest-tasks.js …
// --callgrind --pages 100`, counts the instructions of the measured pages alone (one round): a
// figure that does not move with the machine's load.
// A build is a checkout with its dist/ compiled (default: this one). The pages must be read already:
// a page that marks messages read is a different answer (the bench says so and stops).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

type Task = (caller: unknown, params: unknown) => Promise<unknown>;

const { values } = parseArgs({
  options: {
    db: { type: 'string' }, builds: { type: 'string', default: resolve(import.meta.dirname, '..', '..') },
    rounds: { type: 'string', default: '3' }, pages: { type: 'string', default: '400' }, callgrind: { type: 'boolean', default: false },
  },
});
if (!values.db) throw new Error('--db is required');
const db = new Database(values.db, { readonly: true, fileMustExist: true });
const dialog = db.prepare("SELECT id FROM dialogs WHERE type = 3 ORDER BY rowid LIMIT 1").pluck().get() as string;
const appId = db.prepare('SELECT app_id FROM dialogs WHERE id = ?').pluck().get(dialog) as number;
const userId = db.prepare('SELECT min(user_id) FROM dialog_members WHERE dialog_id = ?').pluck().get(dialog) as number;
db.close();

/** The two page tasks of a build, set up as read-worker.ts sets them up (deep pages, rendering where the build has it). */
async function tasksOf(build: string): Promise<Record<string, Task>> {
  const at = (path: string) => import(resolve(build, 'dist/src', path));
  const { SqliteChatStore, toMessage } = await at('storage/sqlite/chat.js');
  const { DeepPages } = await at('storage/sqlite/deep-pages.js');
  const { readTasks } = await at('rest/page-render.js');
  const conn = new Database(values.db!, { fileMustExist: true });
  conn.pragma('query_only = ON');
  conn.pragma('cache_size = -32768');
  const chat = new SqliteChatStore(conn, null);
  const dataVersion = conn.prepare('PRAGMA data_version').pluck();
  const deep = new DeepPages(chat, () => dataVersion.get());
  const host: Record<string, PropertyDescriptor> = { listMessages: { value: (q: unknown) => deep.listMessages(q) } };
  const rendering = await at('storage/sqlite/read-messages.js').catch(() => null);
  if (rendering) {
    const reads = new rendering.RenderedMessageReads(conn, chat, toMessage, deep);
    host.renderMessages = { value: (q: unknown, o: unknown) => reads.render(q, o) };
  }
  return readTasks({ chat: Object.create(chat, host) }, { mucDomain: 'muc.localhost' });
}

const builds = values.builds.split(',').map((b) => resolve(b));
const tasks = await Promise.all(builds.map(tasksOf));
const caller = { appId, userId };
const cases: [string, string, Record<string, string>][] = [
  ['Message.json oldest 100', 'rest.messages', { chat_dialog_id: dialog, limit: '100' }],
  ['Message.json newest 100', 'rest.messages', { chat_dialog_id: dialog, limit: '100', sort_desc: 'date_sent' }],
  ['Message.json skip=500000', 'rest.messages', { chat_dialog_id: dialog, limit: '100', skip: '500000' }],
  ['Dialog.json first 100', 'rest.dialogs', {}],
];
for (const [label, task, params] of cases) {
  for (const [i, t] of tasks.entries()) {
    const body = await t[task]!(caller, params);
    if (!(body instanceof Uint8Array) && typeof body !== 'string') throw new Error(`${label} on ${builds[i]}: not a finished page (unread messages to mark, or an error)`);
  }
}
const callgrind = (...args: string[]): Promise<unknown> => promisify(execFile)('callgrind_control', [...args, String(process.pid)]);
/** Instructions in callgrind's newest dump of this process. */
const lastDump = (): number => {
  const files = readdirSync('.').filter((f) => f.startsWith(`callgrind.out.${process.pid}.`));
  const newest = files.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop())).at(-1);
  return newest ? Number(/^summary: (\d+)/m.exec(readFileSync(newest, 'utf8'))?.[1] ?? NaN) : NaN;
};
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(values.callgrind
  ? `instructions per page task (callgrind), ${values.pages} pages per figure (Dialog.json a quarter of that); builds: ${builds.join(', ')}`
  : `CPU µs per page task (user + system of this process), ${values.pages} pages per figure; builds: ${builds.join(', ')}`);
console.log(`| round | load average | ${cases.flatMap(([label]) => builds.map((_, i) => `${label} (build ${i + 1})`)).join(' | ')} |`);
for (let round = 1; round <= (values.callgrind ? 1 : Number(values.rounds)); round++) {
  const figures: string[] = [];
  const load = loadavg();
  for (const [label, task, params] of cases) {
    for (const t of tasks) {
      const pages = label.startsWith('Dialog') ? Math.ceil(Number(values.pages) / 4) : Number(values.pages);
      for (let i = 0; i < 20; i++) await t[task]!(caller, params);
      if (values.callgrind) {
        await callgrind('-z');
        await callgrind('-i', 'on');
      }
      const start = process.cpuUsage();
      for (let i = 0; i < pages; i++) await t[task]!(caller, params);
      const used = process.cpuUsage(start);
      if (values.callgrind) {
        await callgrind('-d');
        await callgrind('-i', 'off');
        figures.push((lastDump() / pages).toFixed(0));
      } else figures.push(((used.user + used.system) / pages).toFixed(0));
    }
  }
  console.log(`| ${round} | ${load} | ${figures.join(' | ')} |`);
}
