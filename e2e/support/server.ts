// Starts a real Parley on free loopback ports with a fresh data dir, and provisions accounts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { openStore } from '../../src/storage/open.js';
import { createTestSchema } from '../../src/storage/postgres/test-schema.js';
import type { Application, Store, User } from '../../src/storage/types.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { LogRing } from '../../src/admin/log-ring.js';

// Test clients talk to a self-signed certificate.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

export interface TestServer {
  config: Config;
  store: Store;
  server: RunningServer;
  app: Application;
  domain: string;
  createUser(login?: string, password?: string, app?: Application): Promise<TestUser>;
  createApp(): Promise<Application>;
  stop(): Promise<void>;
}

export interface TestUser extends User {
  password: string;
  /** The SASL username: `<userId>-<appId>`. */
  username: string;
  jid: string;
}

let counter = 0;

/**
 * The store the servers use: SQLite in their data directory, or, with PARLEY_STORE=postgres and
 * PARLEY_DATABASE_URL set, a schema of that database made for the one server and dropped after it.
 */
async function storeSettings(): Promise<{ settings: Pick<Config, 'store' | 'database_url'>; drop(): Promise<void> }> {
  const url = process.env.PARLEY_DATABASE_URL;
  if (process.env.PARLEY_STORE !== 'postgres') return { settings: { store: 'sqlite', database_url: null }, drop: async () => {} };
  if (!url) throw new Error('PARLEY_STORE=postgres needs PARLEY_DATABASE_URL');
  const schema = await createTestSchema(url, 'parley_e2e');
  return { settings: { store: 'postgres', database_url: schema.url }, drop: () => schema.drop() };
}

export interface TestServerOptions {
  /** Another test server whose store (data directory or PostgreSQL schema) and application this one shares: a cluster node. */
  share?: TestServer;
  /** Also log warnings and errors into this ring (the console's log page). */
  logRing?: LogRing;
}

export async function startTestServer(overrides: Partial<Config> = {}, opts: TestServerOptions = {}): Promise<TestServer> {
  const shared = opts.share;
  const dataDir = shared ? shared.config.data_dir : mkdtempSync(join(tmpdir(), 'parley-e2e-'));
  const storage = shared
    ? { settings: { store: shared.config.store, database_url: shared.config.database_url }, drop: async () => {} }
    : await storeSettings();
  const configure = async (): Promise<Config> =>
    loadConfig({
      file: null,
      env: {},
      overrides: {
        data_dir: dataDir,
        bind: '127.0.0.1',
        c2s_port: await freePort(),
        c2s_tls_port: await freePort(),
        ws_port: await freePort(),
        http_port: await freePort(),
        https_port: 0,
        log_level: 'silent',
        ...storage.settings,
        ...overrides,
      },
    });
  const log = opts.logRing
    ? pino({ level: 'warn' }, opts.logRing)
    : pino({ level: process.env.PARLEY_TEST_LOG ?? 'silent' });
  let config = await configure();
  const store = await openStore(config);
  let server: RunningServer;
  // freePort() can race with another test process taking the same port before we bind it: retry with new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      server = await startServer({ config, store, log, logRing: opts.logRing });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
      config = await configure();
    }
  }
  const app = shared ? shared.app : await store.accounts.createApplication({ name: 'test' });
  const domain = config.domain;
  const createUser = async (login = `user${++counter}`, password = `pw-${login}`, inApp = app): Promise<TestUser> => {
    const user = await store.accounts.createUser(inApp.id, { login, password });
    const username = `${user.id}-${inApp.id}`;
    return { ...user, password, username, jid: `${username}@${domain}` };
  };
  return {
    config,
    store,
    server,
    app,
    domain,
    createUser,
    createApp: () => store.accounts.createApplication({ name: `app${++counter}` }),
    async stop() {
      await server.stop();
      await store.close();
      await storage.drop();
      if (!shared) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A port that was free a moment ago (port 0 in the config means "listener off"). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Waits (at most 10 s) until something accepts connections on a loopback port: a server spawned as a process. */
export async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}
