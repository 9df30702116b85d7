// One server per describe block: registers the before/after hooks every e2e file needs.
import { after, before } from 'node:test';
import type { Config } from '../../src/config/types.js';
import { startTestServer, type TestServer } from './server.js';
import { ClientPool } from './clients.js';
import { RawPool } from './raw.js';
import type { LogRing } from '../../src/admin/log-ring.js';

export interface Fixture {
  /** The running server; set once `before` has run. */
  t: TestServer;
  /** @xmpp/client connections, stopped after the block. */
  pool: ClientPool;
  /** Raw sockets, destroyed after the block. */
  raws: RawPool;
}

export function useServer(opts: { overrides?: Partial<Config>; setup?: () => Promise<void>; teardown?: () => void; logRing?: LogRing } = {}): Fixture {
  const fx = { raws: new RawPool() } as Fixture;
  before(async () => {
    fx.t = await startTestServer(opts.overrides, { logRing: opts.logRing });
    fx.pool = new ClientPool(fx.t);
    await opts.setup?.();
  });
  after(async () => {
    opts.teardown?.();
    fx.raws.destroyAll();
    await fx.pool.stopAll();
    await fx.t.stop();
  });
  return fx;
}
