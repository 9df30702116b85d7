// PostgreSQL for the parley-pg peer: a throwaway cluster of its own under the run folder (Debian's
// server binaries, run as the `postgres` user, loopback only, trust authentication, durable defaults:
// fsync and synchronous_commit on, as Parley's SQLite commits are), or an existing server given by URL.
// Either way the harness follows the postmaster's process tree so that PostgreSQL's own CPU can be
// reported beside Parley's.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createTestSchema, type TestSchema } from '../../src/storage/postgres/test-schema.js';
import { freePort, sleep, startGroup, stopGroup, TreeMonitor } from './proc.js';
import type { ChildProcess } from 'node:child_process';

export interface BenchPostgres {
  /** Where Parley connects (a schema of its own when the server is not ours). */
  readonly url: string;
  /** The postmaster and its backends; null when the server is not on this machine. */
  readonly monitor: TreeMonitor | null;
  readonly notes: string[];
  stop(): Promise<void>;
}

function serverBinaries(): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`)) : [];
  if (!versions.length) throw new Error('no PostgreSQL server under /usr/lib/postgresql (Debian package postgresql)');
  return `/usr/lib/postgresql/${versions.sort((a, b) => Number(a) - Number(b)).at(-1)}/bin`;
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function durabilityNote(url: string): Promise<string> {
  const [f] = await query<{ fsync: string }>(url, 'SHOW fsync');
  const [s] = await query<{ synchronous_commit: string }>(url, 'SHOW synchronous_commit');
  return `fsync=${f?.fsync}, synchronous_commit=${s?.synchronous_commit}`;
}

/** Starts a cluster of its own in `dir` (owned by the postgres user); resolves once it accepts connections. */
export async function startPostgres(dir: string): Promise<BenchPostgres> {
  const bin = serverBinaries();
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  execFileSync('chown', ['postgres:postgres', dir]);
  execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'initdb'), '-D', data, '-U', 'parley', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const port = await freePort();
  const cmd = `exec setpriv --reuid=postgres --regid=postgres --init-groups ${join(bin, 'postgres')} -D ${data} -h 127.0.0.1 -p ${port} -k ${dir}`;
  const child: ChildProcess = startGroup('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', openSync(join(dir, 'server.log'), 'w')] });
  const monitor = new TreeMonitor(child.pid!).start();
  const url = `postgres://parley@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`PostgreSQL exited at start: ${readFileSync(join(dir, 'server.log'), 'utf8').slice(-1000)}`);
    try {
      await query(url, 'SELECT 1');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
  const version = /\d+(\.\d+)?/.exec(execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }))?.[0];
  return {
    url,
    monitor,
    notes: [`PostgreSQL ${version}, a cluster of its own (${await durabilityNote(url)})`],
    async stop() {
      monitor.stop();
      // SIGINT is PostgreSQL's fast shutdown; the group's SIGTERM/SIGKILL remain the fallback.
      try {
        process.kill(child.pid!, 'SIGINT');
      } catch {
        /* gone */
      }
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000)]);
      await stopGroup(child, 3000);
    },
  };
}

/**
 * An existing server (e.g. the tests' throwaway one): Parley gets a schema of its own, dropped at the
 * end. Its CPU is followed when the server runs on this machine (data_directory/postmaster.pid readable).
 */
export async function usePostgres(baseUrl: string): Promise<BenchPostgres> {
  const schema: TestSchema = await createTestSchema(baseUrl, 'parley_compare');
  const notes = [`PostgreSQL at ${new URL(baseUrl).host} (${await durabilityNote(baseUrl)}), schema ${schema.name}`];
  let monitor: TreeMonitor | null = null;
  try {
    const [row] = await query<{ data_directory: string }>(baseUrl, 'SHOW data_directory');
    const pid = Number(readFileSync(join(row!.data_directory, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && existsSync(`/proc/${pid}`)) {
      monitor = new TreeMonitor(pid).start();
      notes.push('its CPU includes any other client of that server');
    }
  } catch {
    /* not ours to read */
  }
  if (!monitor) notes.push('PostgreSQL CPU not measured (server not readable from here)');
  return {
    url: schema.url,
    monitor,
    notes,
    async stop() {
      monitor?.stop();
      await schema.drop();
    },
  };
}
