// The three servers under test, each started on a loopback port with its own configuration and data
// under the run folder, with N users created fast, and stopped by the process group it was started in.
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openSqliteStore, sqliteFile } from '../../src/storage/sqlite/index.js';
import { freePort, sleep, startGroup, stopGroup, TreeMonitor, waitForPort, waitIdle } from './proc.js';
import { peerFile, render } from './tsung.js';
import { RawClient } from '../../e2e/support/raw.js';
import { cloneUser } from './users.js';

export type ServerName = 'parley' | 'ejabberd' | 'prosody';
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
  readonly notes: string[];
  /** Starts the server with `users` accounts u1…uN (password PASSWORD) ready; returns when it is idle. */
  setup(users: number, options: SetupOptions): Promise<void>;
  stop(): Promise<void>;
  /** Messages stored in its history so far (Parley only; null where nothing is stored). */
  storedMessages(): number | null;
}

export interface SetupOptions {
  /** Parley: give every user its own scrypt hash (each first login pays scrypt) instead of one shared hash. */
  coldHashes?: boolean;
  /** Parley: group rooms to create for the MUC scenario (public dialogs, numbered from 0). */
  rooms?: number;
  env?: Record<string, string>;
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
  storedMessages(): number | null {
    return null;
  }
}

export class Parley extends Base implements ServerUnderTest {
  readonly name = 'parley' as const;
  usernameTemplate = '{id}-1';
  readonly mucDomain = `muc.${DOMAIN}`;
  // QuickBlox rooms are <app id>_<dialog id>, and the nick must be the user id: "{id}" makes the
  // patched ts_jabber use the id its login name was made from (tsung_userid may differ from it).
  readonly mucNames = { room: `"1_" ++ lists:flatten(io_lib:format("~24..0B", [R]))`, nick: '"{id}"' };
  private dataDir = '';

  async setup(users: number, options: SetupOptions): Promise<void> {
    this.dataDir = join(this.dir, 'data');
    mkdirSync(this.dataDir, { recursive: true });
    const t0 = Date.now();
    const store = await openSqliteStore(sqliteFile(this.dataDir));
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
      cloneUser(store.db, 1, Array.from({ length: users - 1 }, (_, i) => `u${i + 2}`));
      this.notes.push('users share one password hash: one scrypt for the first login, remembered digest after');
    }
    for (let r = 0; r < (options.rooms ?? 0); r++) {
      await store.chat.createDialog({
        id: benchRoomId(r), appId: app.id, type: 1, name: `room ${r}`, photo: null, ownerId: first.id, occupantIds: [], adminIds: [],
        data: null, isJoinRequired: true, createdAt: new Date(),
      });
    }
    await store.close();
    log(`parley: ${users} users in ${Date.now() - t0} ms`);
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
      PARLEY_AUTH_FAILURES_PER_MINUTE: '100000',
      PARLEY_AUTH_TIMEOUT: '120',
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

  override storedMessages(): number | null {
    const out = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1],{readonly:true});console.log(d.prepare('select count(*) n from messages').get().n)`, sqliteFile(this.dataDir)], { encoding: 'utf8', cwd: resolve('.') });
    return out.status === 0 ? Number(out.stdout.trim()) : null;
  }
}

const EJABBERD_EBIN = '/usr/lib/x86_64-linux-gnu/ejabberd-23.01-1/ebin';

export class Ejabberd extends Base implements ServerUnderTest {
  readonly name = 'ejabberd' as const;
  readonly usernameTemplate = 'u{id}';
  readonly mucDomain = `conference.${DOMAIN}`;
  readonly mucNames = PLAIN_MUC_NAMES;
  private readonly cookie = `bench${process.pid}`;
  private distPort = 0;
  private readonly node = 'ejabberd@127.0.0.1';

  async setup(users: number): Promise<void> {
    this.port = await freePort();
    this.distPort = await freePort();
    const config = join(this.dir, 'ejabberd.yml');
    writeFileSync(config, render(peerFile('ejabberd.yml'), { DOMAIN, PORT: this.port }));
    mkdirSync(join(this.dir, 'db'), { recursive: true });
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
    const evalCode = `N='${this.node}', pong = net_adm:ping(N), Bad = [I || I <- lists:seq(1, ${users}), rpc:call(N, ejabberd_auth, try_register, [list_to_binary("u" ++ integer_to_list(I)), <<"${DOMAIN}">>, <<"${PASSWORD}">>]) =/= ok], io:format("~p~n", [length(Bad)]), halt(0).`;
    const out = execFileSync(
      'erl',
      ['-noinput', '-hidden', '-name', `reg${process.pid}@127.0.0.1`, '-setcookie', this.cookie, '-start_epmd', 'false', '-erl_epmd_port', String(this.distPort), '-dist_listen', 'false', '-eval', evalCode],
      { encoding: 'utf8', timeout: 300_000, env: { ...process.env, HOME: this.dir } },
    );
    if (out.trim() !== '0') throw new Error(`ejabberd: ${out.trim()} registrations failed`);
    log(`ejabberd: ${users} users in ${Date.now() - t0} ms`);
    // An Erlang VM keeps a core busy for a while after start: wait until it is idle.
    const pct = await waitIdle(this.monitor, 5, 1000, 30_000);
    log(`ejabberd idle (${pct.toFixed(1)}% of a core)`);
  }

  override async stop(): Promise<void> {
    this.monitor?.stop();
    if (this.child && this.alive()) {
      // init:stop over the same RPC path, then the group.
      spawnSync('erl', ['-noinput', '-hidden', '-name', `stop${process.pid}@127.0.0.1`, '-setcookie', this.cookie, '-start_epmd', 'false', '-erl_epmd_port', String(this.distPort), '-dist_listen', 'false', '-eval', `rpc:call('${this.node}', init, stop, []), halt(0).`], { timeout: 15_000, env: { ...process.env, HOME: this.dir } });
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
  switch (name) {
    case 'parley':
      return new Parley(join(dir, 'parley'));
    case 'ejabberd':
      return new Ejabberd(join(dir, 'ejabberd'));
    case 'prosody':
      return new Prosody(join(dir, 'prosody'));
  }
}

