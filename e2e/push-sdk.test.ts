// The official QuickBlox JS SDK's QB.pushnotifications.subscriptions.* and .events.* against
// Parley, with pushes delivered to local APNs and FCM endpoints that check what Apple and Google do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { freePort } from './support/server.js';
import { call, sdkSignUp, type SdkError, type SdkUser } from './support/quickblox.js';
import { BUNDLE, configureProviders, hexToken, parley, rest, startProviders, until, type Providers } from './support/push.js';
import { restSession } from './support/rest.js';

const httpsPort = await freePort();
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
let tokenSeed = 0x1000;

describe('QuickBlox JS SDK: push notifications', () => {
  let p: Providers;
  const fx = useServer({ overrides: { https_port: httpsPort, push_retry_seconds: 1 } });
  before(async () => {
    p = await startProviders();
    await configureProviders(fx.t, p);
  });
  after(() => p.stop());

  const subscribe = (u: SdkUser, channel: string, token: string, udid = `udid-${u.id}-${channel}`, platform = channel === 'gcm' ? 'android' : 'ios') =>
    call<any[]>((cb) => u.qb.pushnotifications.subscriptions.create({
      notification_channel: channel,
      push_token: { environment: 'development', client_identification_sequence: token, bundle_identifier: BUNDLE },
      device: { platform, udid },
    }, cb));
  const failure = (promise: Promise<unknown>): Promise<SdkError> => promise.then(() => assert.fail('expected an error'), (e: SdkError) => e);

  it('creates, lists and deletes subscriptions', async () => {
    const ann = await sdkSignUp(fx.t);
    const token = hexToken(++tokenSeed);
    const created = await subscribe(ann, 'apns', token, 'iphone-1');
    assert.equal(created.length, 1);
    assert.equal(created[0].subscription.notification_channel.name, 'apns');
    assert.equal(created[0].subscription.device.platform.name, 'ios');
    assert.equal(created[0].subscription.device.udid, 'iphone-1');
    assert.equal(created[0].subscription.device.client_identification_sequence, token);
    const both = await subscribe(ann, 'gcm', `fcm-${tokenSeed}-registration-token`, 'pixel-1');
    assert.deepEqual(both.map((s) => s.subscription.device.udid), ['iphone-1', 'pixel-1']);
    const again = await subscribe(ann, 'apns', hexToken(++tokenSeed), 'iphone-1');
    assert.equal(again.length, 2, 'the same udid and channel replaces the old subscription');
    const listed = await call<any[]>((cb) => ann.qb.pushnotifications.subscriptions.list(cb));
    assert.deepEqual(listed.map((s) => s.subscription.id), again.map((s) => s.subscription.id));
    assert.equal(await call((cb) => ann.qb.pushnotifications.subscriptions.delete(listed[0].subscription.id, cb)), true);
    assert.equal((await call<any[]>((cb) => ann.qb.pushnotifications.subscriptions.list(cb))).length, 1);
    const bob = await sdkSignUp(fx.t);
    const err = await failure(call((cb) => bob.qb.pushnotifications.subscriptions.delete(listed[1].subscription.id, cb)));
    assert.equal(err.code, 404, "another user's subscription is not found");
  });

  it('sends a universal event to user ids: an APNs alert and an FCM data message', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    const apnsToken = hexToken(++tokenSeed);
    const fcmToken = `fcm-${tokenSeed}-registration-token`;
    await subscribe(bob, 'apns', apnsToken);
    await subscribe(bob, 'gcm', fcmToken);
    const message = b64(JSON.stringify({ message: 'Hello Bob', ios_badge: 5, ios_sound: 'default', dialog_id: 'abc' }));
    const event = await call<any>((cb) => ann.qb.pushnotifications.events.create({
      notification_type: 'push', environment: 'development', user: { ids: [bob.id] }, message,
    }, cb));
    assert.equal(event.event.event_type, 'one_shot');
    assert.equal(event.event.message, message);
    assert.equal(event.event.user_id, ann.id);
    await until(() => p.apns.delivered.some((d) => d.token === apnsToken) && p.fcm.delivered.some((d) => d.token === fcmToken), 10_000, 'both pushes');
    const ios = p.apns.delivered.find((d) => d.token === apnsToken)!;
    assert.deepEqual(ios.payload, { dialog_id: 'abc', aps: { alert: 'Hello Bob', badge: 5, sound: 'default' } });
    assert.equal(ios.topic, BUNDLE);
    assert.deepEqual(p.fcm.delivered.find((d) => d.token === fcmToken)!.data, { message: 'Hello Bob', dialog_id: 'abc' });
    const got = await call<any>((cb) => ann.qb.pushnotifications.events.get(event.event.id, cb));
    assert.equal(got.event.id, event.event.id);
    const list = await call<any>((cb) => ann.qb.pushnotifications.events.list({ page: 1, per_page: 10 }, cb));
    assert.equal(list.total_entries, 1);
    assert.equal(list.items[0].event.id, event.event.id);
    await until(async () => (await call<any>((cb) => ann.qb.pushnotifications.events.status(event.event.id, cb))).event_status.status === 'sent', 10_000, 'status sent');
    await call((cb) => ann.qb.pushnotifications.events.delete(event.event.id, cb));
    assert.equal((await failure(call((cb) => ann.qb.pushnotifications.events.get(event.event.id, cb)))).code, 404);
  });

  it('sends to users by tags (any, all, exclude) and by external ids', async () => {
    const tag = `t${Date.now() % 100000}`;
    const ann = await sdkSignUp(fx.t);
    const vip = await sdkSignUp(fx.t, { tag_list: `${tag}a,${tag}b` });
    const half = await sdkSignUp(fx.t, { tag_list: `${tag}a` });
    const banned = await sdkSignUp(fx.t, { tag_list: `${tag}a,${tag}x` });
    const ext = await sdkSignUp(fx.t, { external_user_id: `ext-${tag}` });
    const tokens = new Map<number, string>();
    for (const u of [vip, half, banned, ext]) {
      tokens.set(u.id, hexToken(++tokenSeed));
      await subscribe(u, 'apns', tokens.get(u.id)!);
    }
    const send = (recipients: Record<string, unknown>, text: string) => call<any>((cb) => ann.qb.pushnotifications.events.create({
      notification_type: 'push', environment: 'development', push_type: 'apns', message: `payload=${b64(JSON.stringify({ aps: { alert: text } }))}`, ...recipients,
    }, cb));
    const reached = async (text: string, ids: number[]) => {
      await until(() => ids.every((id) => p.apns.delivered.some((d) => d.token === tokens.get(id) && (d.payload.aps as any).alert === text)), 10_000, text);
      await fx.t.server.push.delivery.stop().then(() => fx.t.server.push.delivery.start()); // every claimed push recorded
      const who = p.apns.delivered.filter((d) => (d.payload.aps as any).alert === text).map((d) => [...tokens].find(([, tk]) => tk === d.token)![0]);
      assert.deepEqual(who.sort(), [...ids].sort(), text);
    };
    await send({ user: { tags: { any: `${tag}a`, exclude: `${tag}x` } } }, 'any-exclude');
    await reached('any-exclude', [vip.id, half.id]);
    await send({ user: { tags: { all: `${tag}a,${tag}b` } } }, 'all');
    await reached('all', [vip.id]);
    await send({ external_user: { ids: [`ext-${tag}`] } }, 'external');
    await reached('external', [ext.id]);
  });

  it('sends a call push to the VoIP subscription, with the call keys at the payload root', async () => {
    const [caller, callee] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    const normal = hexToken(++tokenSeed);
    const voip = hexToken(++tokenSeed);
    await subscribe(callee, 'apns', normal, 'iphone');
    await subscribe(callee, 'apns_voip', voip, 'iphone');
    const call_ = { message: 'Ann is calling you', ios_voip: '1', VOIPCall: '1', sessionID: 'sess-1', opponentsIDs: `${caller.id},${callee.id}`, conferenceType: '1' };
    await call((cb) => caller.qb.pushnotifications.events.create({ notification_type: 'push', environment: 'development', user: { ids: String(callee.id) }, message: b64(JSON.stringify(call_)) }, cb));
    await until(() => p.apns.delivered.some((d) => d.token === voip), 10_000, 'voip push');
    const got = p.apns.delivered.find((d) => d.token === voip)!;
    assert.equal(got.topic, `${BUNDLE}.voip`);
    assert.equal(got.pushType, 'voip');
    assert.equal(got.payload.VOIPCall, '1');
    assert.equal(got.payload.sessionID, 'sess-1');
    assert.ok(!p.apns.delivered.some((d) => d.token === normal), 'not also as an alert');
  });

  it('refuses bad input with QuickBlox errors and stores nothing', async () => {
    const ann = await sdkSignUp(fx.t);
    const bob = await sdkSignUp(fx.t);
    await subscribe(bob, 'apns', hexToken(++tokenSeed));
    const bad = await failure(call((cb) => ann.qb.pushnotifications.subscriptions.create({
      notification_channel: 'carrier_pigeon', push_token: { environment: 'development', client_identification_sequence: hexToken(1) }, device: { platform: 'ios', udid: 'x' },
    }, cb)));
    assert.equal(bad.code, 422);
    assert.deepEqual(bad.detail, { notification_channel: ['is not included in the list'] });
    assert.deepEqual(await call((cb) => ann.qb.pushnotifications.subscriptions.list(cb)), []);
    const malformed = await failure(call((cb) => ann.qb.pushnotifications.events.create({ notification_type: 'push', environment: 'development', user: { ids: [bob.id] }, message: 'not base64 at all!' }, cb)));
    assert.equal(malformed.code, 422);
    assert.ok((malformed.detail as any).message, JSON.stringify(malformed.detail));
    // A user of another application is nobody here.
    const other = await fx.t.createApp();
    const stranger = await fx.t.store.accounts.createUser(other.id, { login: `stranger${Date.now()}`, password: 'pw-stranger' });
    await fx.t.store.push.saveSubscription({ appId: other.id, userId: stranger.id, channel: 'apns', environment: 'development', token: hexToken(++tokenSeed), bundleId: null, platform: 'ios', udid: 'u' }, new Date());
    const nobody = await failure(call((cb) => ann.qb.pushnotifications.events.create({ notification_type: 'push', environment: 'development', user: { ids: [stranger.id] }, message: b64('hi') }, cb)));
    assert.equal(nobody.code, 422);
    assert.deepEqual(nobody.detail, ['No one can receive the message']);
    const wrongEnv = await failure(call((cb) => ann.qb.pushnotifications.events.create({ notification_type: 'push', environment: 'production', user: { ids: [bob.id] }, message: b64('hi') }, cb)));
    assert.deepEqual(wrongEnv.detail, ['No one can receive the message'], 'only subscriptions of the event environment count');
    // The token of another application's user: this application's users are nobody there.
    const strangerToken = await restSession(fx.t, { login: stranger.login, password: 'pw-stranger' }, other);
    const across = await rest(fx.t, strangerToken, 'POST', '/events.json', { event: { notification_type: 'push', environment: 'development', user: { ids: [bob.id] }, message: b64('hi') } });
    assert.equal(across.status, 422);
    assert.deepEqual(across.body, { errors: ['No one can receive the message'] });
    assert.equal((await rest(fx.t, strangerToken, 'GET', '/subscriptions.json')).body.length, 1, 'only its own subscription');
    const list = await call<any>((cb) => ann.qb.pushnotifications.events.list(cb));
    assert.equal(list.total_entries, 0, 'no event stored');
    assert.equal((await fx.t.store.push.outbox({ appId: other.id })).length, 0, 'nothing queued for the other application');
  });

  it('runs a fixed_date event at its date, once', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    const token = hexToken(++tokenSeed);
    await subscribe(bob, 'apns', token);
    const date = Math.floor(Date.now() / 1000) + 2;
    const event = await call<any>((cb) => ann.qb.pushnotifications.events.create({
      notification_type: 'push', environment: 'development', event_type: 'fixed_date', date, user: { ids: [bob.id] }, message: b64('later'),
    }, cb));
    assert.equal(event.event.event_type, 'fixed_date');
    assert.ok(!p.apns.delivered.some((d) => d.token === token), 'not before its date');
    await until(() => p.apns.delivered.some((d) => d.token === token), 15_000, 'scheduled push');
    assert.ok(Date.now() >= date * 1000 - 100);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(p.apns.delivered.filter((d) => d.token === token).length, 1);
    const after_ = await call<any>((cb) => ann.qb.pushnotifications.events.get(event.event.id, cb));
    assert.equal(after_.event.occured_count, 1);
    assert.equal(after_.event.active, false);
  });

  it('updates events over REST: active=true sends a one_shot again; a period_date event is scheduled', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    const token = hexToken(++tokenSeed);
    await subscribe(bob, 'apns', token);
    const event = await call<any>((cb) => ann.qb.pushnotifications.events.create({ notification_type: 'push', environment: 'development', user: { ids: [bob.id] }, message: b64('first') }, cb));
    await until(() => p.apns.delivered.some((d) => d.token === token), 10_000, 'first push');
    const updated = await rest(fx.t, ann.token, 'PUT', `/events/${event.event.id}.json`, { event: { active: true, message: b64('again'), name: 'renamed' } });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.event.name, 'renamed');
    assert.equal(updated.body.event.occured_count, 2);
    await until(() => p.apns.delivered.some((d) => d.token === token && (d.payload.aps as any).alert === 'again'), 10_000, 'sent again');
    const periodic = await rest(fx.t, ann.token, 'POST', '/events.json', { event: {
      notification_type: 'push', environment: 'development', event_type: 'period_date', period: 86400, date: Math.floor(Date.now() / 1000) + 3600, user: { ids: String(bob.id) }, message: b64('daily'),
    } });
    assert.equal(periodic.status, 201, JSON.stringify(periodic.body));
    assert.equal(periodic.body.event.event_type, 'period_date');
    assert.equal(periodic.body.event.period, 86400);
    const badPeriod = await rest(fx.t, ann.token, 'POST', '/events.json', { event: { notification_type: 'push', environment: 'development', event_type: 'period_date', period: 5, user: { ids: String(bob.id) }, message: b64('x') } });
    assert.equal(badPeriod.status, 422);
    const status = await rest(fx.t, ann.token, 'GET', `/events/${periodic.body.event.id}/status.json`);
    assert.equal(status.body.event_status.status, 'scheduled');
    const other = await rest(fx.t, bob.token, 'GET', `/events/${event.event.id}.json`);
    assert.equal(other.status, 404, "another user's event");
  });

  it('prints push settings without secrets', async () => {
    const shown = await parley(fx.t, ['push', 'show', '--app', String(fx.t.app.id), '--json']);
    assert.equal(shown.code, 0, shown.err);
    const json = JSON.parse(shown.out);
    assert.equal(json.apns.key_id, p.key.keyId);
    assert.equal(json.gcm.project_id, p.fcm.account!.project_id);
    assert.ok(!shown.out.includes('PRIVATE KEY'), 'no key material');
  });
});
