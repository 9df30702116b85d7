// Presence across nodes for push: a user online on another node is pinged `result` and gets no
// chat alert; once they leave, the ping fails and the alert goes out. Two nodes over Redis
// (PARLEY_TEST_REDIS_URL) sharing one store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startTestServer, type TestServer } from './support/server.js';
import { ClientPool, xml } from './support/clients.js';
import { restSession } from './support/rest.js';
import { sleep } from './support/wait.js';
import { BUNDLE, configureProviders, hexToken, rest, startProviders, until, type Providers } from './support/push.js';

const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL;

describe('push presence across cluster nodes', { skip: REDIS_URL ? false : 'PARLEY_TEST_REDIS_URL is unset (bash .ci/run starts a Redis)' }, () => {
  const prefix = `parley-test-${randomBytes(4).toString('hex')}:`;
  const nodes: TestServer[] = [];
  const pools: ClientPool[] = [];
  let p: Providers;

  before(async () => {
    p = await startProviders();
    const settings = { redis_url: REDIS_URL!, redis_prefix: prefix, cluster_ttl: 2, push_alert_interval: 0 };
    const first = await startTestServer({ ...settings, cluster_node_id: 'p1' });
    nodes.push(first, await startTestServer({ ...settings, cluster_node_id: 'p2' }, { share: first }));
    for (const n of nodes) pools.push(new ClientPool(n));
    await configureProviders(first, p);
  });
  after(async () => {
    await Promise.all(pools.map((x) => x.stopAll()));
    for (const n of [...nodes].reverse()) await n.stop();
    const redis = new Redis(REDIS_URL!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await p.stop();
  });

  it('pings and alerts by presence on any node', async () => {
    const [a, b] = [await nodes[0].createUser(), await nodes[0].createUser()];
    const session = await restSession(nodes[0], { login: b.login, password: b.password });
    const token = hexToken(0xc0ffee);
    const sub = await rest(nodes[0], session, 'POST', '/subscriptions.json', {
      notification_channel: 'apns', push_token: { environment: 'development', client_identification_sequence: token, bundle_identifier: BUNDLE }, device: { platform: 'ios', udid: 'x' },
    });
    assert.equal(sub.status, 201);
    const alice = await pools[0].connect(a);
    const bob = await pools[1].connect(b);
    const ping = () => alice.iq(xml('iq', { type: 'get', to: b.jid }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal((await ping()).attrs.type, 'result', 'bob is available on the other node');
    const saved = (text: string) => xml('message', { type: 'chat', to: b.jid }, xml('body', {}, text), xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1')));
    await alice.send(saved('while online'));
    await bob.take((el) => el.name === 'message' && el.getChildText('body') === 'while online');
    await sleep(500);
    assert.equal(p.apns.delivered.filter((d) => d.token === token).length, 0, 'no alert while online on another node');
    await bob.stop();
    await until(async () => (await nodes[0].server.cluster.locate(`${b.username}@${nodes[0].domain}`)).length === 0, 10_000, 'bob gone from the registry');
    await assert.rejects(ping(), (err: any) => err.condition === 'service-unavailable');
    await alice.send(saved('while away'));
    await until(() => p.apns.delivered.some((d) => d.token === token), 10_000, 'alert once away');
    assert.equal((p.apns.delivered.find((d) => d.token === token)!.payload.aps as { alert: string }).alert, `${a.login}: while away`);
  });
});
