// Shared by the REST route tests: a real SQLite store, the real app driven with inject(), and
// helpers that sign sessions the way the QuickBlox SDK does.
import pino from 'pino';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { openSqliteStore } from '../storage/sqlite/index.js';
import type { Application, Store, User } from '../storage/types.js';
import { buildRestApp, type RestAppOptions } from './app.js';
import type { RestDeps } from './context.js';
import { sign } from './signature.js';
import { ChatService } from '../chat/service.js';
import { chatLimits } from '../chat/limits.js';

export interface RestHarness {
  app: FastifyInstance;
  store: Store;
  config: Config;
  deps: RestDeps;
  application: Application;
  request(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** A signed POST /session.json; `user` makes it a user session. Returns the token. */
  session(user?: { login: string; password: string }, application?: Application): Promise<string>;
  newUser(login?: string, password?: string, application?: Application): Promise<User>;
  close(): Promise<void>;
}

let counter = 0;
export const PASSWORD = 'password123';

export function signedSessionParams(application: Application, extra: Record<string, unknown> = {}, nonce = Math.floor(Math.random() * 1e9)) {
  const params: Record<string, unknown> = { application_id: application.id, auth_key: application.authKey, nonce, timestamp: Math.floor(Date.now() / 1000), ...extra };
  return { ...params, signature: sign(params, application.authSecret) };
}

export async function restHarness(overrides: Partial<Config> = {}, options: RestAppOptions = {}): Promise<RestHarness> {
  const store = await openSqliteStore(':memory:');
  const config = loadConfig({ file: null, env: {}, overrides: { domain: 'chat.test', ...overrides } });
  const chat = new ChatService(store, { mucDomain: `muc.${config.domain}`, limits: chatLimits(config) });
  const deps: RestDeps = { store, config, log: pino({ level: 'silent' }), chat };
  const app = await buildRestApp(deps, options);
  const application = await store.accounts.createApplication({ name: 'test' });
  const h: RestHarness = {
    app,
    store,
    config,
    deps,
    application,
    request: (opts) => app.inject(opts),
    async session(user, app2 = application) {
      const res = await app.inject({ method: 'POST', url: '/session.json', payload: signedSessionParams(app2, user ? { user } : {}) });
      if (res.statusCode !== 201) throw new Error(`session: ${res.statusCode} ${res.body}`);
      return res.json().session.token as string;
    },
    newUser: (login = `user${++counter}x${Date.now() % 100000}`, password = PASSWORD, app2 = application) =>
      store.accounts.createUser(app2.id, { login, password }),
    async close() {
      await app.close();
      await store.close();
    },
  };
  return h;
}
