// The servers under test, each started on a loopback port with its own configuration and data under
// the run folder, with N users created fast, and stopped by the process group it was started in:
// Parley on SQLite (parley) or PostgreSQL (parley-pg), ejabberd without an archive (ejabberd) or with
// mod_mam archiving every message on SQLite (ejabberd-mam-sql) or Mnesia (ejabberd-mam-mnesia), Prosody.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openSqliteStore, sqliteFile } from '../../src/storage/sqlite/index.js';
import { openPostgresStore } from '../../src/storage/postgres/index.js';
import { freePort, sleep, startGroup, stopGroup, TreeMonitor, waitForPort, waitIdle } from './proc.js';
import { peerFile, render } from './tsung.js';
import { RawClient } from '../../e2e/support/raw.js';
import { cloneUser } from './users.js';
import { startPostgres, usePostgres, type BenchPostgres } from './postgres.js';

export const SERVER_NAMES = ['parley', 'parley-pg', 'ejabberd', 'ejabberd-mam-sql', 'ejabberd-mam-mnesia', 'prosody'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];
export const DOMAIN = 'localhost';
export const PASSWORD = 'pw';

export interface ServerUnderTest {
  readonly name: ServerName;
  port: number;
  /** Username pattern for the patched ts_jabber: "{id}" is replaced by tsung's user number 1…N. */
  readonly usernameTemplate: string;
  readonly mucDomain: string;
  /** Erlang expressions for the MUC scenario: the room name of room number R, the nick of user N. */
  readonly mucNames: { room: string; nick: string };
  monitor: TreeMonitor | null;
  /** A database server beside it whose CPU is reported in a column of its own (PostgreSQL for parley-pg). */
  readonly storeMonitor: TreeMonitor | null;
  readonly notes: string[];
  /** Starts the server with `users` accounts u1…uN (password PASSWORD) ready; returns when it is idle. */
  setup(users: number, options: SetupOptions): Promise<void>;
  stop(): Promise<void>;
  /** What its history or archive holds so far; null for a server that stores nothing. */
  stored(): Promise<StoredCount | null>;
}

export interface StoredCount {
  /** Messages stored (ejabberd's MAM keeps one archive row per local participant: two per 1-1 message). */
  messages: number;
  /** How it was counted, e.g. "40,000 archive rows" or "9,870 dialogs". */
  detail: string;
}

export interface SetupOptions {
  /** Parley: give every user its own scrypt hash (each first login pays scrypt) instead of one shared hash. */
  coldHashes?: boolean;
  /** Parley: group rooms to create for the MUC scenario (public dialogs, numbered from 0). */
  rooms?: number;
  env?: Record<string, string>;
  /** parley-pg: an existing PostgreSQL server (a schema of its own is used) instead of a throwaway cluster. */
  postgresUrl?: string;
}

/** Room r<R>, nick u<N>: what ejabberd and Prosody accept. */
const PLAIN_MUC_NAMES = { room: '"r" ++ integer_to_list(R)', nick: '"u" ++ integer_to_list(N)' };

/** The dialog id of benchmark room number `r`: all digits, so that the Erlang side can build it with ~24..0B. */
export const benchRoomId = (r: number): string => String(r).padStart(24, '0');

const ULIMIT = 'ulimit -n $(ulimit -Hn)'; // as many descriptors as allowed (20,000 here)

function log(msg: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

function ownedBy(user: string, dir: string): void {
  const ids = execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim();
  const gid = execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim();
  execFileSync('chown', ['-R', `${ids}:${gid}`, dir]);
}

abstract class Base {
  port = 0;
  monitor: TreeMonitor | null = null;
  storeMonitor: TreeMonitor | null = null;
  protected child: ChildProcess | null = null;
  readonly notes: string[] = [];
  constructor(protected readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  protected alive = (): boolean => !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  async stop(): Promise<void> {
    this.monitor?.stop();
    if (this.child) await stopGroup(this.child, 8000);
    this.child = null;
  }
  async stored(): Promise<StoredCount | null> {
    return null;
  }
}

const count = (n: number): string => n.toLocaleString('en-US');

export class Parley extends Base implements ServerUnderTest {
  usernameTemplate = '{id}-1';
  readonly mucDomain = `muc.${DOMAIN}`;
  // QuickBlox rooms are <app id>_<dialog id>, and the nick must be the user id: "{id}" makes the
  // patched ts_jabber use the id its login name was made from (tsung_userid may differ from it).
  readonly mucNames = { room: `"1_" ++ lists:flatten(io_lib:format("~24..0B", [R]))`, nick: '"{id}"' };
  private dataDir = '';
  private postgres: BenchPostgres | null = null;

  constructor(dir: string, readonly name: 'parley' | 'parley-pg') {
    super(dir);
  }

  async setup(users: number, options: SetupOptions): Promise<void> {
    this.dataDir = join(this.dir, 'data');
    mkdirSync(this.dataDir, { recursive: true });
    let storeEnv: Record<string, string> = {};
    if (this.name === 'parley-pg') {
      this.postgres = options.postgresUrl ? await usePostgres(options.postgresUrl) : await startPostgres(join(this.dir, 'postgres'));
      this.storeMonitor = this.postgres.monitor;
      this.notes.push(...this.postgres.notes);
      storeEnv = { PARLEY_STORE: 'postgres', PARLEY_DATABASE_URL: this.postgres.url };
    }
    const t0 = Date.now();
    const store = this.postgres ? await openPostgresStore(this.postgres.url) : await openSqliteStore(sqliteFile(this.dataDir));
    const app = await store.accounts.createApplication({ name: 'bench' });
    const first = await store.accounts.createUser(app.id, { login: 'u1', password: PASSWORD });
    this.usernameTemplate = `{id}-${app.id}`;
    if (first.id !== 1) throw new Error(`expected user id 1, got ${first.id}`);
    if (options.coldHashes) {
      // Every user its own salt and hash, created through the store, four scrypt hashes at a time.
      for (let i = 2; i <= users; i += 4) {
        const batch = [];
        for (let j = i; j < Math.min(i + 4, users + 1); j++) batch.push(store.accounts.createUser(app.id, { login: `u${j}`, password: PASSWORD }));
        await Promise.all(batch);
      }
      this.notes.push('every user its own scrypt hash: each first login pays one scrypt (~50 ms of the thread pool)');
    } else {
      // Copies of user 1's row (same hash and SCRAM keys, new login): the first PLAIN login costs one
      // scrypt, every later one hits Parley's remembered digest. Ids are 1…N in order.
      const logins = Array.from({ length: users - 1 }, (_, i) => `u${i + 2}`);
      if ('db' in store) cloneUser(store.db, 1, logins);
      else {
        await store.pool.query(
          `INSERT INTO users (app_id, login, password_hash, scram_sha1, scram_sha256, created_at, updated_at)
           SELECT app_id, 'u' || i, password_hash, scram_sha1, scram_sha256, created_at, updated_at
           FROM users, generate_series(2, $1::int) AS i WHERE id = 1 ORDER BY i`,
          [users],
        );
        const { rows } = await store.pool.query(`SELECT count(*)::int AS n FROM users WHERE login <> 'u' || id`);
        if (rows[0].n !== 0) throw new Error(`parley-pg: ${rows[0].n} users whose id is not their number`);
      }
      this.notes.push('users share one password hash: one scrypt for the first login, remembered digest after');
    }
    for (let r = 0; r < (options.rooms ?? 0); r++) {
      await store.chat.createDialog({
        id: benchRoomId(r), appId: app.id, type: 1, name: `room ${r}`, photo: null, ownerId: first.id, occupantIds: [], adminIds: [],
        data: null, isJoinRequired: true, createdAt: new Date(),
      });
    }
    await store.close();
    log(`${this.name}: ${users} users in ${Date.now() - t0} ms`);
    this.port = await freePort();
    const env = {
      ...process.env,
      PARLEY_DATA_DIR: this.dataDir,
      PARLEY_DOMAIN: DOMAIN,
      PARLEY_BIND: '127.0.0.1',
      PARLEY_C2S_PORT: String(this.port),
      PARLEY_C2S_TLS_PORT: '0',
      PARLEY_WS_PORT: '0',
      PARLEY_HTTP_PORT: '0',
      PARLEY_HTTPS_PORT: '0',
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_MAX_CONNECTIONS_PER_IP: '100000',
      // Every tsung user logs in from 127.0.0.1: the per-address and per-account SASL limiters off.
      PARLEY_AUTH_FAILURES_PER_MINUTE: '100000',
      PARLEY_AUTH_ATTEMPTS_PER_MINUTE: '100000',
      PARLEY_AUTH_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '100000',
      PARLEY_AUTH_TIMEOUT: '120',
      ...storeEnv,
      ...options.env,
    };
    const bin = resolve('bin/parley.js');
    // PARLEY_BENCH_PROFILE=DIR: the server writes a CPU profile there when it stops.
    const profile = process.env.PARLEY_BENCH_PROFILE ? `--cpu-prof --cpu-prof-dir="${resolve(process.env.PARLEY_BENCH_PROFILE)}" ` : '';
    this.child = startGroup('sh', ['-c', `${ULIMIT} && exec "${process.execPath}" ${profile}"${bin}" serve`], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    this.monitor = new TreeMonitor(this.child.pid!).start();
    await waitForPort(this.port, 30_000, this.alive);
    if (!options.coldHashes) {
      // One login before the load puts the shared hash's digest in Parley's cache, so the load does
      // not start with a queue of identical scrypt computations.
      const c = await RawClient.connect(this.port);
      await c.login(`1-${app.id}`, PASSWORD, 'warmup');
      c.destroy();
      this.notes[this.notes.length - 1] += ' (warmed by one login before the load)';
    }
    await waitIdle(this.monitor, 5, 500, 10_000);
  }

  /** Rows of `messages` (one per stored message) and of `dialogs` (tsung's pairs open private dialogs). */
  override async stored(): Promise<StoredCount | null> {
    const sql = 'SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM dialogs) AS dialogs';
    let row: { messages: number | string; dialogs: number | string };
    if (this.postgres) {
      const client = new pg.Client({ connectionString: this.postgres.url });
      await client.connect();
      try {
        row = (await client.query(sql)).rows[0];
      } finally {
        await client.end();
      }
    } else {
      const db = new Database(sqliteFile(this.dataDir), { readonly: true });
      try {
        row = db.prepare(sql).get() as typeof row;
      } finally {
        db.close();
      }
    }
    return { messages: Number(row.messages), detail: `${count(Number(row.dialogs))} dialogs` };
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.postgres?.stop();
    this.postgres = null;
  }
}

const EJABBERD_LIB = '/usr/lib/x86_64-linux-gnu/ejabberd-23.01-1';
const EJABBERD_EBIN = `${EJABBERD_LIB}/ebin`;
/** The SQLite schema ejabberd ships (Debian puts it in both places); the old, single-host one. */
const EJABBERD_LITE_SQL = ['/usr/share/ejabberd/sql/lite.sql', `${EJABBERD_LIB}/priv/sql/lite.sql`];

type Mam = 'none' | 'sql' | 'mnesia';

export class Ejabberd extends Base implements ServerUnderTest {
  readonly usernameTemplate = 'u{id}';
  readonly mucDomain = `conference.${DOMAIN}`;
  readonly mucNames = PLAIN_MUC_NAMES;
  private readonly cookie = `bench${process.pid}`;
  private distPort = 0;
  private readonly node = 'ejabberd@127.0.0.1';
  private calls = 0;

  constructor(dir: string, readonly name: 'ejabberd' | 'ejabberd-mam-sql' | 'ejabberd-mam-mnesia', private readonly mam: Mam) {
    super(dir);
  }

  /** The YAML that turns mod_mam on, archiving every message (`default: always`) in `db_type`. */
  private mamConfig(): { sql: string; module: string } {
    if (this.mam === 'none') return { sql: '', module: '' };
    const module = ['  mod_mam:', `    db_type: ${this.mam}`, '    default: always'].join('\n');
    if (this.mam === 'mnesia') return { sql: '', module };
    // Only MAM uses SQL (default_db stays mnesia: accounts, roster, sessions as in plain ejabberd).
    return { sql: ['sql_type: sqlite', `sql_database: "${join(this.dir, 'ejabberd.db')}"`, 'new_sql_schema: false'].join('\n'), module };
  }

  async setup(users: number): Promise<void> {
    this.port = await freePort();
    this.distPort = await freePort();
    const config = join(this.dir, 'ejabberd.yml');
    const mam = this.mamConfig();
    writeFileSync(config, render(peerFile('ejabberd.yml'), { DOMAIN, PORT: this.port, SQL_OPTIONS: mam.sql, MAM_MODULE: mam.module }));
    mkdirSync(join(this.dir, 'db'), { recursive: true });
    if (this.mam === 'sql') {
      const schema = EJABBERD_LITE_SQL.find((f) => existsSync(f));
      if (!schema) throw new Error(`ejabberd's SQLite schema not found (${EJABBERD_LITE_SQL.join(', ')})`);
      const db = new Database(join(this.dir, 'ejabberd.db'));
      db.exec(readFileSync(schema, 'utf8'));
      db.close();
      this.notes.push(`mod_mam on SQLite, default: always (schema from ${schema}; ejabberd's own SQLite settings: rollback journal)`);
    } else if (this.mam === 'mnesia') this.notes.push('mod_mam on Mnesia, default: always');
    ownedBy('ejabberd', this.dir);
    const q = (s: string) => `'"${s}"'`;
    const cmd = [
      `${ULIMIT} && exec setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME=${this.dir} ERL_LIBS=/usr/lib/x86_64-linux-gnu`,
      `EJABBERD_CONFIG_PATH=${config} EJABBERD_LOG_PATH=${join(this.dir, 'ejabberd.log')}`,
      `erl -noinput -name ${this.node} -setcookie ${this.cookie} -start_epmd false -erl_epmd_port ${this.distPort}`,
      `-kernel inet_dist_use_interface '{127,0,0,1}' +K true +P 2000000 +Q 200000 -env ERL_CRASH_DUMP_BYTES 0`,
      `-pa ${EJABBERD_EBIN} -mnesia dir ${q(join(this.dir, 'db'))} -ejabberd config ${q(config)} log_path ${q(join(this.dir, 'ejabberd.log'))}`,
      `-sasl sasl_error_logger false -s ejabberd`,
    ].join(' ');
    this.child = startGroup('sh', ['-c', cmd], { stdio: ['ignore', openSync(join(this.dir, 'stdout.log'), 'w'), 'inherit'] });
    this.monitor = new TreeMonitor(this.child.pid!).start();
    await waitForPort(this.port, 60_000, this.alive);
    const t0 = Date.now();
    // One hidden node registers everyone over RPC (ejabberdctl per user is far too slow).
    const out = this.rpc(`Bad = [I || I <- lists:seq(1, ${users}), rpc:call(N, ejabberd_auth, try_register, [list_to_binary("u" ++ integer_to_list(I)), <<"${DOMAIN}">>, <<"${PASSWORD}">>]) =/= ok], io:format("~p~n", [length(Bad)])`, 300_000);
    if (out !== '0') throw new Error(`${this.name}: ${out} registrations failed`);
    log(`${this.name}: ${users} users in ${Date.now() - t0} ms`);
    if (this.mam !== 'none' && (await this.stored())?.messages !== 0) throw new Error(`${this.name}: the archive is not readable or not empty before the load`);
    // An Erlang VM keeps a core busy for a while after start: wait until it is idle.
    const pct = await waitIdle(this.monitor, 5, 1000, 30_000);
    log(`${this.name} idle (${pct.toFixed(1)}% of a core)`);
  }

  /**
   * Evaluates `body` (Erlang expressions; N is the server's node name) on a hidden node connected to
   * the server, no epmd; returns what it printed, trimmed.
   */
  private rpc(body: string, timeoutMs = 30_000): string {
    const evalCode = `N='${this.node}', pong = net_adm:ping(N), ${body}, halt(0).`;
    return execFileSync(
      'erl',
      ['-noinput', '-hidden', '-name', `rpc${process.pid}x${++this.calls}@127.0.0.1`, '-setcookie', this.cookie, '-start_epmd', 'false', '-erl_epmd_port', String(this.distPort), '-dist_listen', 'false', '-eval', evalCode],
      { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, HOME: this.dir } },
    ).trim();
  }

  /**
   * Rows of mod_mam's archive, counted by the server itself: the `archive` table (SQL) or
   * `archive_msg` (Mnesia). MAM archives a 1-1 message in the sender's and in the recipient's archive.
   */
  override async stored(): Promise<StoredCount | null> {
    if (this.mam === 'none') return null;
    const query =
      this.mam === 'sql'
        ? `{selected, _, [[C]]} = rpc:call(N, ejabberd_sql, sql_query, [<<"${DOMAIN}">>, [<<"select count(*) from archive">>]], 60000), io:format("~s~n", [if is_integer(C) -> integer_to_list(C); true -> C end])`
        : `C = rpc:call(N, mnesia, table_info, [archive_msg, size], 60000), io:format("~p~n", [C])`;
    const rows = Number(this.rpc(query, 90_000));
    if (!Number.isInteger(rows)) throw new Error(`${this.name}: archive count unreadable`);
    return { messages: rows / 2, detail: `${count(rows)} archive rows` };
  }

  override async stop(): Promise<void> {
    this.monitor?.stop();
    if (this.child && this.alive()) {
      // init:stop over the same RPC path, then the group.
      try {
        this.rpc('rpc:call(N, init, stop, [])', 15_000);
      } catch {
        /* the group is stopped below anyway */
      }
      await Promise.race([new Promise((r) => this.child!.once('exit', r)), sleep(8000)]);
    }
    await super.stop();
  }
}

export class Prosody extends Base implements ServerUnderTest {
  readonly name = 'prosody' as const;
  readonly usernameTemplate = 'u{id}';
  readonly mucDomain = `conference.${DOMAIN}`;
  readonly mucNames = PLAIN_MUC_NAMES;

  async setup(users: number): Promise<void> {
    this.port = await freePort();
    const config = join(this.dir, 'prosody.cfg.lua');
    writeFileSync(config, render(peerFile('prosody.cfg.lua'), { DOMAIN, PORT: this.port, DIR: this.dir }));
    const t0 = Date.now();
    // internal_plain account files, written directly (prosodyctl register per user is far too slow).
    const accounts = join(this.dir, 'data', DOMAIN.replace(/\./g, '%2e'), 'accounts');
    mkdirSync(accounts, { recursive: true });
    for (let i = 1; i <= users; i++) writeFileSync(join(accounts, `u${i}.dat`), `return {\n\t["password"] = "${PASSWORD}";\n};\n`);
    ownedBy('prosody', this.dir);
    log(`prosody: ${users} users in ${Date.now() - t0} ms`);
    const cmd = `${ULIMIT} && exec setpriv --reuid=prosody --regid=prosody --init-groups env HOME=${this.dir} prosody --config ${config} -F`;
    this.child = startGroup('sh', ['-c', cmd], { stdio: ['ignore', openSync(join(this.dir, 'stdout.log'), 'w'), 'inherit'] });
    this.monitor = new TreeMonitor(this.child.pid!).start();
    await waitForPort(this.port, 30_000, this.alive);
    await waitIdle(this.monitor, 5, 500, 10_000);
  }
}

export function makeServer(name: ServerName, dir: string): ServerUnderTest {
  const here = join(dir, name);
  switch (name) {
    case 'parley':
    case 'parley-pg':
      return new Parley(here, name);
    case 'ejabberd':
      return new Ejabberd(here, name, 'none');
    case 'ejabberd-mam-sql':
      return new Ejabberd(here, name, 'sql');
    case 'ejabberd-mam-mnesia':
      return new Ejabberd(here, name, 'mnesia');
    case 'prosody':
      return new Prosody(here);
  }
}
