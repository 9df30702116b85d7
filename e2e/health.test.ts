// /health and /ready: what load balancers and orchestrators poll. Both check the store (and Redis
// when clustered) for real and answer 503 when a check fails; /ready also answers 503 while the
// server is stopping (shutdown_drain keeps it listening meanwhile).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestServer } from './support/server.js';
import { restUrl } from './support/rest.js';
import type { RedisCluster } from '../src/cluster/redis.js';

const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL;

const get = async (url: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

describe('/health and /ready', () => {
  it('answer 200 with the store checked', async () => {
    const t = await startTestServer();
    try {
      for (const path of ['/health', '/health.json']) {
        assert.deepEqual(await get(restUrl(t, path)), { status: 200, body: { status: 'ok', checks: { store: 'ok' } } });
      }
      assert.deepEqual(await get(restUrl(t, '/ready')), { status: 200, body: { status: 'ready', checks: { store: 'ok' } } });
    } finally {
      await t.stop();
    }
  });

  it('answer 503 when the store does not answer', async () => {
    const t = await startTestServer();
    try {
      await t.store.close();
      assert.deepEqual(await get(restUrl(t, '/health')), { status: 503, body: { status: 'failing', checks: { store: 'failing' } } });
      assert.deepEqual(await get(restUrl(t, '/ready')), { status: 503, body: { status: 'failing', checks: { store: 'failing' } } });
    } finally {
      await t.stop();
    }
  });

  it('/ready answers 503 while the server drains before stopping', async () => {
    const t = await startTestServer({ shutdown_drain: 2 });
    assert.equal((await get(restUrl(t, '/ready'))).status, 200);
    const stopping = t.stop();
    try {
      assert.deepEqual(await get(restUrl(t, '/ready')), { status: 503, body: { status: 'stopping' } });
      assert.equal((await get(restUrl(t, '/health'))).status, 200, 'still healthy: it is only leaving');
    } finally {
      await stopping;
    }
  });

  it('checks Redis when clustered', { skip: !REDIS_URL && 'PARLEY_TEST_REDIS_URL is not set' }, async () => {
    const t = await startTestServer({ redis_url: REDIS_URL!, redis_prefix: `parley-health-${randomBytes(4).toString('hex')}:` });
    try {
      assert.deepEqual(await get(restUrl(t, '/health')), { status: 200, body: { status: 'ok', checks: { store: 'ok', redis: 'ok' } } });
      (t.server.cluster as RedisCluster).crash();
      assert.deepEqual(await get(restUrl(t, '/health')), { status: 503, body: { status: 'failing', checks: { store: 'ok', redis: 'failing' } } });
    } finally {
      await t.stop();
    }
  });
});
