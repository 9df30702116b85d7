// The provider senders against local servers that check what Apple's and Google's do, and the
// webhook's signature against an independent HMAC.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboxPush } from '../storage/push-types.js';
import { ApnsSender, ApnsTokenSigner, APNS_TOKEN_LIFETIME_MS } from './apns.js';
import { FcmSender } from './fcm.js';
import { LocalApns, LocalFcm, newApnsKey } from './local-providers.js';
import { WebhookSender } from './webhook.js';

const BUNDLE = 'com.example.chat';
let seq = 0;
const hexToken = () => randomBytes(32).toString('hex');
const push = (extra: Partial<OutboxPush>): OutboxPush => ({
  id: ++seq, appId: 1, eventId: null, subscriptionId: 1, userId: 7, channel: 'apns', environment: 'development', token: hexToken(),
  bundleId: BUNDLE, payload: JSON.stringify({ aps: { alert: 'hi', badge: 3 }, dialog_id: 'd1' }), collapseKey: null, state: 'pending',
  attempts: 1, dueAt: 0, lastError: null, createdAt: new Date(), sentAt: null, ...extra,
});

describe('APNs sender', () => {
  const key = newApnsKey();
  const apns = new LocalApns(key, BUNDLE);
  let sender: ApnsSender;
  before(async () => {
    await apns.start();
    sender = new ApnsSender({ ...key, bundleId: BUNDLE, endpoint: apns.url }, { ca: apns.cert });
  });
  after(async () => {
    sender.close();
    await apns.stop();
  });

  it('posts alerts to /3/device/<token> with a verified ES256 token, the bundle topic and the payload', async () => {
    const p = push({});
    assert.deepEqual(await sender.send(p), { kind: 'sent' });
    const got = apns.delivered.at(-1)!;
    assert.equal(got.token, p.token);
    assert.equal(got.topic, BUNDLE);
    assert.equal(got.pushType, 'alert');
    assert.equal(got.priority, '10');
    assert.deepEqual(got.payload, { aps: { alert: 'hi', badge: 3 }, dialog_id: 'd1' });
  });

  it('sends VoIP pushes to <bundle>.voip with apns-push-type voip, and silent ones as background priority 5', async () => {
    assert.deepEqual(await sender.send(push({ channel: 'apns_voip', payload: JSON.stringify({ aps: {}, VOIPCall: '1' }) })), { kind: 'sent' });
    const voip = apns.delivered.at(-1)!;
    assert.equal(voip.topic, `${BUNDLE}.voip`);
    assert.equal(voip.pushType, 'voip');
    assert.deepEqual(await sender.send(push({ payload: JSON.stringify({ aps: { 'content-available': 1 } }) })), { kind: 'sent' });
    assert.equal(apns.delivered.at(-1)!.pushType, 'background');
    assert.equal(apns.delivered.at(-1)!.priority, '5');
  });

  it('reuses one provider token for many pushes', async () => {
    await sender.send(push({}));
    await sender.send(push({}));
    assert.equal(new Set(apns.delivered.map((d) => d.jwt)).size, 1);
  });

  it('signs a new token only once the lifetime has passed', async () => {
    let now = 1_000_000_000_000;
    const signer = new ApnsTokenSigner(key, () => now);
    const first = await signer.token();
    now += APNS_TOKEN_LIFETIME_MS - 1000;
    assert.equal(await signer.token(), first);
    now += 2000;
    assert.notEqual(await signer.token(), first);
  });

  it('maps the answers: 410 unregistered, 503 and 429 retry, 400 failed, a foreign key retried after a refresh', async () => {
    const gone = push({});
    apns.unregistered.add(gone.token);
    assert.equal((await sender.send(gone)).kind, 'unregistered');
    apns.failWith = 503;
    assert.equal((await sender.send(push({}))).kind, 'retry');
    apns.failWith = 429;
    assert.equal((await sender.send(push({}))).kind, 'retry');
    apns.failWith = null;
    assert.deepEqual(await sender.send(push({ token: 'not-hex-token-zz' })), { kind: 'failed', error: '400 BadPath' });
    const stranger = new ApnsSender({ ...newApnsKey(), bundleId: BUNDLE, endpoint: apns.url }, { ca: apns.cert });
    assert.deepEqual(await stranger.send(push({})), { kind: 'retry', error: '403 InvalidProviderToken' });
    stranger.close();
  });

  it('retries when the provider cannot be reached', async () => {
    const nowhere = new ApnsSender({ ...key, bundleId: BUNDLE, endpoint: 'https://127.0.0.1:1' }, { ca: apns.cert });
    assert.equal((await nowhere.send(push({}))).kind, 'retry');
    nowhere.close();
  });
});

describe('FCM sender', () => {
  const fcm = new LocalFcm();
  let sender: FcmSender;
  before(async () => {
    const account = await fcm.start();
    sender = new FcmSender({ serviceAccount: account, endpoint: fcm.url });
  });
  after(() => fcm.stop());

  it('exchanges the service-account JWT once and sends data messages with the cached bearer token', async () => {
    const data = { message: 'hello', dialog_id: 'abc' };
    for (let i = 0; i < 3; i++) assert.deepEqual(await sender.send(push({ channel: 'gcm', token: `fcm-token-${i}-xxxxxxxx`, payload: JSON.stringify(data) })), { kind: 'sent' });
    assert.equal(fcm.exchanges, 1);
    assert.equal(fcm.delivered.length, 3);
    assert.deepEqual(fcm.delivered[0].data, data);
    assert.equal(fcm.delivered[0].priority, 'high');
  });

  it('maps UNREGISTERED to unregistered, UNAVAILABLE to retry, a refused token to a new exchange', async () => {
    fcm.unregistered.add('gone-token-xxxxxxxx');
    assert.equal((await sender.send(push({ channel: 'gcm', token: 'gone-token-xxxxxxxx', payload: '{"message":"x"}' }))).kind, 'unregistered');
    fcm.failWith = 503;
    assert.equal((await sender.send(push({ channel: 'gcm', token: 'fcm-token-zzzzzzzz', payload: '{"message":"x"}' }))).kind, 'retry');
    fcm.failWith = null;
    fcm.issued.clear();
    assert.equal((await sender.send(push({ channel: 'gcm', token: 'fcm-token-zzzzzzzz', payload: '{"message":"x"}' }))).kind, 'retry');
    assert.equal((await sender.send(push({ channel: 'gcm', token: 'fcm-token-zzzzzzzz', payload: '{"message":"x"}' }))).kind, 'sent');
    assert.equal(fcm.exchanges, 2);
  });

  it('fails (no retry) when the service account key is refused', async () => {
    const other = new LocalFcm();
    const account = await other.start();
    const third = new LocalFcm();
    const wrong = new FcmSender({ serviceAccount: { ...account, private_key: (await third.start()).private_key }, endpoint: other.url });
    await third.stop();
    const outcome = await wrong.send(push({ channel: 'gcm', token: 'fcm-token-wwwwwwww', payload: '{"message":"x"}' }));
    assert.deepEqual(outcome, { kind: 'failed', error: 'OAuth token exchange: 400 invalid_grant' });
    await other.stop();
  });
});

describe('webhook sender', () => {
  it('signs the exact body with HMAC-SHA256 and maps the status', async () => {
    const secret = 'a-long-webhook-secret';
    const received: { signature: string; body: string }[] = [];
    let status = 200;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ signature: String(req.headers['x-parley-signature']), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const sender = new WebhookSender({ url, secret });
    try {
      const p = push({});
      assert.deepEqual(await sender.send(p), { kind: 'sent' });
      const { signature, body } = received[0];
      assert.equal(signature, `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
      const json = JSON.parse(body);
      assert.equal(json.token, p.token);
      assert.deepEqual(json.payload, JSON.parse(p.payload));
      status = 503;
      assert.equal((await sender.send(push({}))).kind, 'retry');
      status = 410;
      assert.equal((await sender.send(push({}))).kind, 'unregistered');
      status = 400;
      assert.equal((await sender.send(push({}))).kind, 'failed');
    } finally {
      server.close();
    }
  });
});
