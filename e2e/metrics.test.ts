// GET /metrics under real traffic: @xmpp/client users over TCP and WebSocket, stored and unstored
// messages, an offline message, a stream resumption, REST calls and failed sign-ins on both sides.
// Every family the issue names must be declared, and the ones this traffic touches must move.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, freePort, type TestServer } from './support/server.js';
import { ClientPool, withBody, xml } from './support/clients.js';
import { RawPool, STREAM_HEADER, plainAuth } from './support/raw.js';
import { SmRaw } from './support/sm.js';
import { restSession, restUrl } from './support/rest.js';
import { families, parsePrometheus, value, type Sample } from './support/prometheus.js';
import { signedSessionParams } from '../src/rest/harness.js';
import { registry } from '../src/metrics/index.js';

const TOKEN = 'metrics-test-token-8c1f0e';

describe('GET /metrics', () => {
  let t: TestServer;
  let pool: ClientPool;
  const raws = new RawPool();

  before(async () => {
    t = await startTestServer({ metrics_port: await freePort(), metrics_token: TOKEN });
    pool = new ClientPool(t);
  });
  after(async () => {
    raws.destroyAll();
    await pool.stopAll();
    await t.stop();
  });

  const scrapePort = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${t.server.ports.metrics}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return res.text();
  };

  it('is served on metrics_port, and on the HTTP port only with the bearer token', async () => {
    assert.ok(t.server.ports.metrics > 0);
    const text = await scrapePort();
    assert.match(text, /^# HELP parley_connections /m);
    const other = await fetch(`http://127.0.0.1:${t.server.ports.metrics}/health`);
    assert.equal(other.status, 404, 'the metrics listener serves nothing else');

    assert.equal((await fetch(restUrl(t, '/metrics'))).status, 401);
    assert.equal((await fetch(restUrl(t, '/metrics'), { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const ok = await fetch(restUrl(t, '/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^# TYPE parley_messages_total counter$/m);
  });

  it('declares every family, with the names and types the console reads', async () => {
    const declared = families(await scrapePort());
    const expected: Record<string, string> = {
      parley_connections: 'gauge',
      parley_sessions: 'gauge',
      parley_stanzas_in_total: 'counter',
      parley_stanzas_out_total: 'counter',
      parley_messages_total: 'counter',
      parley_delivery_latency_seconds: 'histogram',
      parley_sm_resume_attempts_total: 'counter',
      parley_sm_resumptions_total: 'counter',
      parley_sm_unacked_stanzas: 'gauge',
      parley_sm_unacked_stanzas_max: 'gauge',
      parley_offline_messages: 'gauge',
      parley_group_commit_batch_size: 'histogram',
      parley_group_commit_flush_seconds: 'histogram',
      parley_http_requests_total: 'counter',
      parley_http_request_duration_seconds: 'histogram',
      parley_auth_failures_total: 'counter',
      parley_auth_throttled_total: 'counter',
      parley_push_total: 'counter',
      parley_cluster_pubsub_messages_total: 'counter',
      parley_cluster_pubsub_bytes_total: 'counter',
      parley_store_size_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(declared.get(name), type, `${name} is a ${type}`);
    const json = await registry.getMetricsAsJSON();
    for (const name of ['parley_connections', 'parley_messages_total', 'parley_delivery_latency_seconds', 'parley_http_requests_total', 'parley_push_total', 'nodejs_eventloop_lag_seconds', 'parley_store_size_bytes']) {
      assert.ok(json.some((m) => m.name === name), `getMetricsAsJSON has ${name}`);
    }
    const push = json.find((m) => m.name === 'parley_push_total')!;
    assert.deepEqual(push.values.map((v) => v.labels.outcome).sort(), ['failed', 'sent']);
  });

  it('moves with XMPP and REST traffic', async () => {
    const before = parsePrometheus(await scrapePort());
    const alice = await pool.connect(await t.createUser(), { transport: 'tcp' });
    const bobUser = await t.createUser();
    const bob = await pool.connect(bobUser, { transport: 'ws' });
    const carol = await t.createUser(); // offline

    for (let i = 0; i < 3; i++) await alice.send(xml('message', { type: 'chat', to: bob.jid, id: `plain${i}` }, xml('body', {}, `plain ${i}`)));
    for (let i = 0; i < 2; i++) {
      await alice.send(xml('message', { type: 'chat', to: bob.jid, id: `stored${i}` }, xml('body', {}, `stored ${i}`),
        xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'))));
    }
    await alice.send(xml('message', { type: 'chat', to: carol.jid, id: 'offline' }, xml('body', {}, 'for later')));
    for (let i = 0; i < 5; i++) await bob.take(withBody);
    await alice.ping();

    // A stream-management session, cut and resumed.
    const sm = await new SmRaw(raws, t.server.ports.c2s, await t.createUser()).login();
    sm.cut();
    assert.match(await sm.resume(), /^<resumed /);

    // REST: a user session, a list, and a badly signed session request.
    const token = await restSession(t, { login: bobUser.login, password: bobUser.password });
    const dialogs = await fetch(restUrl(t, '/chat/Dialog.json'), { headers: { 'QB-Token': token } });
    assert.equal(dialogs.status, 200);
    const bad = await fetch(restUrl(t, '/session.json'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...signedSessionParams(t.app), signature: '0'.repeat(40) }),
    });
    assert.equal(bad.status, 422);

    // A wrong XMPP password.
    // (Raw: @xmpp/client sometimes leaks an unhandled rejection of the SASLError next to start()'s.)
    const wrong = await raws.connect(t.server.ports.c2s);
    wrong.send(STREAM_HEADER(t.domain));
    await wrong.expect(/<\/stream:features>/);
    wrong.send(plainAuth('', (await t.createUser()).username, 'not-the-password'));
    await wrong.expect(/<failure[^>]*><not-authorized/);
    wrong.destroy();

    const now = parsePrometheus(await scrapePort());
    const delta = (name: string, labels: Record<string, string> = {}) => (value(now, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
    const at = (samples: Sample[], name: string, labels: Record<string, string> = {}) => value(samples, name, labels) ?? 0;

    assert.ok(at(now, 'parley_connections', { transport: 'tcp' }) >= 2, 'alice and the SM client over TCP');
    assert.ok(at(now, 'parley_connections', { transport: 'websocket' }) >= 1, 'bob over WebSocket');
    assert.ok(at(now, 'parley_sessions', { transport: 'websocket', state: 'bound' }) >= 1);
    assert.ok(delta('parley_stanzas_in_total', { kind: 'message' }) >= 6);
    assert.ok(delta('parley_stanzas_out_total', { kind: 'message' }) >= 5);
    assert.ok(delta('parley_stanzas_in_total', { kind: 'nonza' }) >= 1, 'SASL and SM elements');
    assert.equal(delta('parley_messages_total', { stored: 'true' }), 2);
    assert.equal(delta('parley_messages_total', { stored: 'false' }), 4, 'three plain and one offline');
    assert.ok(delta('parley_delivery_latency_seconds_count') >= 6);
    assert.ok(delta('parley_delivery_latency_seconds_bucket', { le: '+Inf' }) >= 6);
    assert.ok(delta('parley_delivery_latency_seconds_sum') > 0);
    assert.ok(at(now, 'parley_offline_messages') >= 1, "carol's message waits");
    assert.ok(delta('parley_sm_resume_attempts_total') >= 1);
    assert.ok(delta('parley_sm_resumptions_total') >= 1);
    if (t.config.store === 'sqlite') {
      assert.ok(delta('parley_group_commit_batch_size_count') >= 1);
      assert.ok(delta('parley_group_commit_flush_seconds_count') >= 1);
    }
    assert.equal(delta('parley_http_requests_total', { route: '/chat/Dialog.json', method: 'GET', status: '200' }), 1);
    assert.equal(delta('parley_http_requests_total', { route: '/session.json', method: 'POST', status: '422' }), 1);
    assert.ok(delta('parley_http_request_duration_seconds_count', { route: '/session.json', method: 'POST', status: '201' }) >= 1);
    assert.ok(delta('parley_auth_failures_total', { via: 'rest' }) >= 1);
    assert.ok(delta('parley_auth_failures_total', { via: 'xmpp' }) >= 1);
    assert.ok(at(now, 'parley_store_size_bytes') > 0);
    assert.ok(at(now, 'nodejs_heap_size_used_bytes') > 0);
    assert.ok(value(now, 'nodejs_eventloop_lag_seconds') !== undefined);

    await alice.stop();
    await bob.stop();
  });
});

describe('GET /metrics in a cluster', { skip: !process.env.PARLEY_TEST_REDIS_URL && 'PARLEY_TEST_REDIS_URL is not set' }, () => {
  it('counts the pub/sub messages a cross-node message takes', async () => {
    const settings = { redis_url: process.env.PARLEY_TEST_REDIS_URL!, redis_prefix: `parley-metrics-${Date.now()}:`, metrics_token: TOKEN };
    const a = await startTestServer(settings);
    const b = await startTestServer(settings, { share: a });
    const poolA = new ClientPool(a);
    const poolB = new ClientPool(b);
    try {
      const scrape = async () => parsePrometheus(await (await fetch(restUrl(a, '/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } })).text());
      const before = await scrape();
      const alice = await poolA.connect(await a.createUser());
      const bob = await poolB.connect(await a.createUser());
      await alice.send(xml('message', { type: 'chat', to: bob.jid, id: 'across' }, xml('body', {}, 'across nodes')));
      await bob.take(withBody);
      const now = await scrape();
      // Both nodes live in this process and share the registry: the message left one node and reached the other.
      for (const direction of ['out', 'in']) {
        assert.ok((value(now, 'parley_cluster_pubsub_messages_total', { direction }) ?? 0) > (value(before, 'parley_cluster_pubsub_messages_total', { direction }) ?? 0), direction);
        assert.ok((value(now, 'parley_cluster_pubsub_bytes_total', { direction }) ?? 0) - (value(before, 'parley_cluster_pubsub_bytes_total', { direction }) ?? 0) >= 'across nodes'.length, direction);
      }
    } finally {
      await poolA.stopAll();
      await poolB.stopAll();
      await b.stop();
      await a.stop();
    }
  });
});
