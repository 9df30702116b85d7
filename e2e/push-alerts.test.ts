// Automatic chat alerts: a stored message (XMPP or REST, 1-1 or group) becomes a push to each
// occupant but the sender who is not online and has not muted the dialog; the provider's answers
// (410, outages) are handled; a ping to a user's bare JID tells whether they are online.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { xml, type Conn } from './support/clients.js';
import { restSession } from './support/rest.js';
import type { TestServer, TestUser } from './support/server.js';
import { sleep } from './support/wait.js';

const SETTINGS_RECHECK_MS = 1100;
import { SmRaw } from './support/sm.js';
import { BUNDLE, configureProviders, hexToken, parley, rest, startProviders, until, type Providers } from './support/push.js';

let seed = 0x5000;

async function device(t: TestServer, u: TestUser, channel: 'apns' | 'gcm' = 'apns'): Promise<{ token: string; session: string }> {
  const session = await restSession(t, { login: u.login, password: u.password });
  const token = channel === 'apns' ? hexToken(++seed) : `fcm-alert-${++seed}-registration`;
  const res = await rest(t, session, 'POST', '/subscriptions.json', {
    notification_channel: channel,
    push_token: { environment: 'production', client_identification_sequence: token, bundle_identifier: BUNDLE },
    device: { platform: channel === 'apns' ? 'ios' : 'android', udid: `udid-${seed}` },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { token, session };
}

const saved = (to: string, body: string) =>
  xml('message', { type: 'chat', to }, xml('body', {}, body), xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1')));

describe('chat alerts', () => {
  let p: Providers;
  const fx = useServer({ overrides: { push_alert_interval: 0, push_retry_seconds: 1 } });
  before(async () => {
    p = await startProviders();
    await configureProviders(fx.t, p);
  });
  after(() => p.stop());
  const alertsTo = (token: string) => p.apns.delivered.filter((d) => d.token === token);
  /** Every push queued so far has been handled (sent, failed or waiting for a retry). */
  const settled = async () => {
    await until(async () => (await fx.t.store.push.outbox({ appId: fx.t.app.id })).every((x) => x.state !== 'pending' || x.lastError !== null), 10_000, 'outbox settled');
  };

  it('alerts an offline 1-1 recipient with the template, badge, dialog_id and message_id; nothing for the sender', async () => {
    const [ann, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const annDevice = await device(fx.t, ann);
    const bobDevice = await device(fx.t, bob);
    const alice = await fx.pool.connect(ann);
    await alice.send(saved(bob.jid, 'hello bob'));
    await until(() => alertsTo(bobDevice.token).length === 1, 10_000, 'alert to bob');
    const got = alertsTo(bobDevice.token)[0];
    assert.equal(got.topic, BUNDLE);
    assert.equal(got.pushType, 'alert');
    const aps = got.payload.aps as Record<string, unknown>;
    assert.equal(aps.alert, `${ann.login}: hello bob`);
    assert.equal(aps.badge, 1);
    assert.match(String(got.payload.dialog_id), /^[0-9a-f]{24}$/);
    const stored = await rest(fx.t, bobDevice.session, 'GET', `/chat/Message.json?chat_dialog_id=${got.payload.dialog_id}&mark_as_read=0`);
    assert.equal(stored.body.items[0]._id, got.payload.message_id);
    await alice.send(saved(bob.jid, 'second'));
    await until(() => alertsTo(bobDevice.token).length === 2, 10_000, 'second alert');
    const unread = await rest(fx.t, bobDevice.session, 'GET', '/chat/Message/unread.json');
    assert.equal((alertsTo(bobDevice.token)[1].payload.aps as Record<string, unknown>).badge, unread.body.total, 'badge = unread total');
    assert.equal(unread.body.total, 2);
    await settled();
    assert.deepEqual(alertsTo(annDevice.token), [], 'the sender gets nothing');
  });

  it('sends nothing to an online recipient, nor for a message without save_to_history', async () => {
    const [ann, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const bobDevice = await device(fx.t, bob);
    const alice = await fx.pool.connect(ann);
    const bobby = await fx.pool.connect(bob);
    await alice.send(saved(bob.jid, 'you are online'));
    await bobby.take((el) => el.name === 'message' && el.getChildText('body') === 'you are online');
    await bobby.stop();
    await until(() => ![...fx.t.server.core.sessions.connections()].some((s) => s.user?.userId === bob.id), 5000, 'bob gone');
    await alice.send(xml('message', { type: 'chat', to: bob.jid }, xml('body', {}, 'not kept')));
    await alice.ping();
    await sleep(300);
    await settled();
    assert.deepEqual(alertsTo(bobDevice.token), []);
  });

  it('counts a session detached by stream management as away', async () => {
    const [ann, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const bobDevice = await device(fx.t, bob);
    const sm = await new SmRaw(fx.raws, fx.t.server.ports.c2s, bob).login();
    const alice = await fx.pool.connect(ann);
    sm.cut();
    await until(() => fx.t.server.core.sessions.resources(`${bob.username}@${fx.t.domain}`).some((s) => s.detached), 5000, 'bob detached');
    await alice.send(saved(bob.jid, 'are you still there'));
    await until(() => alertsTo(bobDevice.token).length === 1, 10_000, 'alert to the detached user');
  });

  it('alerts offline group occupants, not online ones, not those who muted the dialog', async () => {
    const [ann, bob, carol, dan] = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const annSession = await restSession(fx.t, { login: ann.login, password: ann.password });
    const [bobDevice, carolDevice, danDevice] = [await device(fx.t, bob), await device(fx.t, carol), await device(fx.t, dan, 'gcm')];
    const dialog = await rest(fx.t, annSession, 'POST', '/chat/Dialog.json', { type: 2, name: 'Team', occupants_ids: [bob.id, carol.id, dan.id] });
    assert.equal(dialog.status, 201);
    await fx.pool.connect(carol);
    const muted = await rest(fx.t, bobDevice.session, 'PUT', `/chat/Dialog/${dialog.body._id}/notifications.json`, { enabled: 0 });
    assert.deepEqual(muted.body, { notifications: { enabled: 0 } });
    const sent = await rest(fx.t, annSession, 'POST', '/chat/Message.json', { chat_dialog_id: dialog.body._id, message: 'team news' });
    assert.equal(sent.status, 201);
    await until(() => p.fcm.delivered.some((d) => d.token === danDevice.token), 10_000, 'alert to dan');
    assert.deepEqual(p.fcm.delivered.find((d) => d.token === danDevice.token)!.data, {
      message: `${ann.login}: team news`, dialog_id: dialog.body._id, message_id: sent.body._id, badge: '1',
    });
    await settled();
    assert.deepEqual(alertsTo(carolDevice.token), [], 'carol is online');
    assert.deepEqual(alertsTo(bobDevice.token), [], 'bob muted the dialog');
  });

  it('uses the per-application template and switch', async () => {
    const [ann, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const bobDevice = await device(fx.t, bob);
    const annSession = await restSession(fx.t, { login: ann.login, password: ann.password });
    assert.equal((await parley(fx.t, ['push', 'alerts', '--app', String(fx.t.app.id), '--enable', '--template', 'New from {sender}: {text}'])).code, 0);
    await sleep(SETTINGS_RECHECK_MS); // a running server looks at the settings file at most once a second
    await rest(fx.t, annSession, 'POST', '/chat/Message.json', { recipient_id: bob.id, message: 'templated' });
    await until(() => alertsTo(bobDevice.token).length === 1, 10_000, 'templated alert');
    assert.equal((alertsTo(bobDevice.token)[0].payload.aps as Record<string, unknown>).alert, `New from ${ann.login}: templated`);
    assert.equal((await parley(fx.t, ['push', 'alerts', '--app', String(fx.t.app.id), '--disable'])).code, 0);
    await sleep(SETTINGS_RECHECK_MS); // a running server looks at the settings file at most once a second
    await rest(fx.t, annSession, 'POST', '/chat/Message.json', { recipient_id: bob.id, message: 'switched off' });
    await sleep(300);
    await settled();
    assert.equal(alertsTo(bobDevice.token).length, 1);
    assert.equal((await parley(fx.t, ['push', 'alerts', '--app', String(fx.t.app.id), '--enable', '--template', ''])).code, 0);
    await sleep(SETTINGS_RECHECK_MS); // a running server looks at the settings file at most once a second
  });

  it('removes a subscription APNs answers 410 for', async () => {
    const [ann, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const bobDevice = await device(fx.t, bob);
    p.apns.unregistered.add(bobDevice.token);
    const annSession = await restSession(fx.t, { login: ann.login, password: ann.password });
    await rest(fx.t, annSession, 'POST', '/chat/Message.json', { recipient_id: bob.id, message: 'are you there' });
    await until(async () => (await rest(fx.t, bobDevice.session, 'GET', '/subscriptions.json')).body.length === 0, 10_000, 'subscription removed');
    assert.ok(p.apns.refused.some((r) => r.status === 410));
  });

  it('delivers every push exactly once when the provider is down for a while', async () => {
    const ann = await fx.t.createUser();
    const annSession = await restSession(fx.t, { login: ann.login, password: ann.password });
    const users = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const devices: { token: string; session: string }[] = [];
    for (const u of users) devices.push(await device(fx.t, u));
    const port = p.apns.port;
    await p.apns.stop();
    for (const u of users) await rest(fx.t, annSession, 'POST', '/chat/Message.json', { recipient_id: u.id, message: 'during the outage' });
    await until(async () => (await fx.t.store.push.outbox({ appId: fx.t.app.id })).filter((x) => x.state === 'pending' && x.attempts >= 1 && x.lastError).length >= 3, 10_000, 'retries pending');
    await sleep(1000);
    await p.apns.start(port);
    await until(() => devices.every((d) => alertsTo(d.token).length >= 1), 30_000, 'delivered after the outage');
    await sleep(2500);
    for (const d of devices) assert.equal(alertsTo(d.token).length, 1, 'exactly once');
  });

  it('answers a ping to a bare JID by whether the user is online anywhere', async () => {
    const [ann, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice: Conn = await fx.pool.connect(ann);
    const ping = (to: string) => alice.iq(xml('iq', { type: 'get', to }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    await assert.rejects(ping(bob.jid), (err: any) => err.condition === 'service-unavailable');
    const bobby = await fx.pool.connect(bob);
    const result = await ping(bob.jid);
    assert.equal(result.attrs.type, 'result');
    assert.equal(result.attrs.from, bob.jid);
    await bobby.stop();
    await until(() => ![...fx.t.server.core.sessions.connections()].some((s) => s.user?.userId === bob.id), 5000, 'bob gone');
    await assert.rejects(ping(bob.jid), (err: any) => err.condition === 'service-unavailable');
    assert.equal((await ping(ann.jid)).attrs.type, 'result', 'own bare JID: like a ping to the server');
  });
});

describe('chat alert flood', () => {
  let p: Providers;
  const fx = useServer({ overrides: { push_alert_interval: 3 } });
  before(async () => {
    p = await startProviders();
    await configureProviders(fx.t, p);
  });
  after(() => p.stop());

  it('collapses a flood of messages to one offline user into few pushes with the latest text and badge', async () => {
    const [ann, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const bobDevice = await device(fx.t, bob);
    const alice = await fx.pool.connect(ann);
    for (let i = 1; i <= 30; i++) await alice.send(saved(bob.jid, `flood ${i}`));
    await until(() => p.apns.delivered.filter((d) => d.token === bobDevice.token).length >= 2, 15_000, 'the collapsed alert');
    await sleep(4000);
    const got = p.apns.delivered.filter((d) => d.token === bobDevice.token);
    assert.ok(got.length <= 3, `${got.length} pushes for 30 messages`);
    const last = got.at(-1)!.payload.aps as Record<string, unknown>;
    assert.equal(last.alert, `${ann.login}: flood 30`);
    assert.equal(last.badge, 30);
  });
});
