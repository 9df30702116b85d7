// Driver-neutral behaviour of PushStore: subscriptions, events and the outbox. Each test makes its own users.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MAX_SUBSCRIPTIONS_PER_USER, TooManySubscriptionsError, type NewOutboxPush, type NewPushEvent, type NewPushSubscription } from './push-types.js';
import type { Store } from './types.js';

export function pushStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`PushStore contract: ${name}`, () => {
    let store: Store;
    let second: Store;
    before(async () => {
      store = await open();
      second = await open();
    });
    after(async () => {
      await store?.close();
      await second?.close();
    });

    const appWithUsers = async (n: number) => {
      const app = await store.accounts.createApplication({});
      const users: number[] = [];
      for (let i = 0; i < n; i++) users.push((await store.accounts.createUser(app.id, { login: `push-${randomBytes(4).toString('hex')}`, password: 'pw' })).id);
      return { appId: app.id, users };
    };
    const sub = (appId: number, userId: number, extra: Partial<NewPushSubscription> = {}): NewPushSubscription => ({
      appId, userId, channel: 'apns', environment: 'development', token: randomBytes(32).toString('hex'), bundleId: 'com.example.app',
      platform: 'ios', udid: 'device-1', ...extra,
    });
    const push = (appId: number, userId: number, extra: Partial<NewOutboxPush> = {}): NewOutboxPush => ({
      appId, eventId: null, subscriptionId: null, userId, channel: 'apns', environment: 'development', token: 'aa', bundleId: 'b',
      payload: '{"aps":{"alert":"x"}}', collapseKey: null, dueAt: 0, ...extra,
    });
    const newEvent = (appId: number, userId: number, extra: Partial<NewPushEvent> = {}): NewPushEvent => ({
      appId, userId, eventType: 'one_shot', environment: 'development', pushType: null, message: 'aGk=', recipients: { userIds: [userId] },
      name: null, date: null, endDate: null, period: null, active: true, occuredCount: 1, nextRunAt: null, ...extra,
    });

    it('keeps one subscription per (user, udid, channel), moves a token between users, and lists per user', async () => {
      const { appId, users: [u, v] } = await appWithUsers(2);
      const a = await store.push.saveSubscription(sub(appId, u, { token: 'aa11' }), new Date(1000));
      const again = await store.push.saveSubscription(sub(appId, u, { token: 'bb22', environment: 'production' }), new Date(2000));
      assert.equal(again.id, a.id);
      assert.equal(again.token, 'bb22');
      assert.equal(again.environment, 'production');
      const voip = await store.push.saveSubscription(sub(appId, u, { channel: 'apns_voip', token: 'cc33' }), new Date(3000));
      assert.notEqual(voip.id, a.id);
      assert.deepEqual((await store.push.listSubscriptions(appId, u)).map((s) => s.id), [a.id, voip.id]);
      // The device changes hands: v registers the same token on the same channel.
      await store.push.saveSubscription(sub(appId, v, { token: 'cc33', channel: 'apns_voip', udid: 'other' }), new Date(4000));
      assert.deepEqual((await store.push.listSubscriptions(appId, u)).map((s) => s.id), [a.id]);
      assert.deepEqual((await store.push.subscriptionsOf(appId, [u, v])).map((s) => s.userId).sort(), [u, v].sort());
      assert.deepEqual((await store.push.subscriptionsOf(appId, [u, v], 'production')).map((s) => s.userId), [u]);
      assert.equal(await store.push.deleteSubscription(appId, v, a.id), false, 'only the owner deletes');
      assert.equal(await store.push.deleteSubscription(appId, u, a.id), true);
      assert.deepEqual(await store.push.listSubscriptions(appId, u), []);
    });

    it(`refuses an ${MAX_SUBSCRIPTIONS_PER_USER + 1}th subscription but still replaces existing ones`, async () => {
      const { appId, users: [u] } = await appWithUsers(1);
      for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_USER; i++) await store.push.saveSubscription(sub(appId, u, { udid: `d${i}` }), new Date());
      await assert.rejects(store.push.saveSubscription(sub(appId, u, { udid: 'one-too-many' }), new Date()), TooManySubscriptionsError);
      await store.push.saveSubscription(sub(appId, u, { udid: 'd3', token: 'fresh' }), new Date());
      assert.equal((await store.push.listSubscriptions(appId, u)).length, MAX_SUBSCRIPTIONS_PER_USER);
    });

    it('stores events with their pushes atomically, pages them newest first, updates and deletes them', async () => {
      const { appId, users: [u, other] } = await appWithUsers(2);
      const e1 = await store.push.createEvent(newEvent(appId, u, { recipients: { tagsAny: ['a'], externalIds: ['x1'] } }), [push(appId, u)], new Date(5000));
      const e2 = await store.push.createEvent(newEvent(appId, u, { name: 'second' }), [], new Date(6000));
      await store.push.createEvent(newEvent(appId, other), [], new Date(6000));
      assert.deepEqual(e1.recipients, { tagsAny: ['a'], externalIds: ['x1'] });
      assert.equal(e1.createdAt.getTime(), 5000);
      assert.deepEqual(await store.push.getEvent(appId, e1.id), e1);
      assert.equal(await store.push.getEvent(appId + 1000, e1.id), null);
      const page = await store.push.listEvents(appId, u, { limit: 1, offset: 0 });
      assert.equal(page.total, 2);
      assert.deepEqual(page.events.map((e) => e.id), [e2.id]);
      assert.deepEqual((await store.push.outbox({ eventId: e1.id })).map((p) => p.eventId), [e1.id]);
      const changed = await store.push.updateEvent(appId, e2.id, { name: null, message: 'bmV3', active: false, updatedAt: new Date(7000) });
      assert.equal(changed?.name, null);
      assert.equal(changed?.message, 'bmV3');
      assert.equal(changed?.active, false);
      const resent = await store.push.updateEvent(appId, e2.id, { active: true, updatedAt: new Date(8000) }, [push(appId, u)]);
      assert.equal(resent?.occuredCount, 2);
      assert.equal((await store.push.eventStatus(e2.id)).pending, 1);
      assert.equal(await store.push.updateEvent(appId, 999_999_999, { updatedAt: new Date() }), null);
      assert.equal(await store.push.deleteEvent(appId, e2.id), true);
      assert.equal(await store.push.deleteEvent(appId, e2.id), false);
    });

    it('fires a scheduled run once even when two stores race for it', async () => {
      const { appId, users: [u] } = await appWithUsers(1);
      const runAt = 10_000;
      const e = await store.push.createEvent(newEvent(appId, u, { eventType: 'period_date', date: 10, period: 86400, nextRunAt: runAt, occuredCount: 0 }), [], new Date(1));
      assert.deepEqual((await store.push.dueEvents(runAt - 1, 100)).filter((x) => x.id === e.id), []);
      assert.deepEqual((await store.push.dueEvents(runAt, 100)).filter((x) => x.id === e.id).map((x) => x.id), [e.id]);
      const results = await Promise.all([
        store.push.fireEvent(e.id, runAt, runAt + 86_400_000, [push(appId, u)], new Date(runAt)),
        second.push.fireEvent(e.id, runAt, runAt + 86_400_000, [push(appId, u)], new Date(runAt)),
      ]);
      assert.deepEqual(results.sort(), [false, true]);
      const after = await store.push.getEvent(appId, e.id);
      assert.equal(after?.occuredCount, 1);
      assert.equal(after?.nextRunAt, runAt + 86_400_000);
      assert.equal((await store.push.outbox({ eventId: e.id })).length, 1);
      assert.equal(await store.push.fireEvent(e.id, runAt + 86_400_000, null, [], new Date(runAt)), true);
      assert.equal((await store.push.getEvent(appId, e.id))?.active, false);
    });

    it('claims each due push once across stores, leases it, and records the outcome', async () => {
      const { appId, users: [u] } = await appWithUsers(1);
      const s = await store.push.saveSubscription(sub(appId, u), new Date());
      const now = 2_000_000_000_000;
      await store.push.enqueue(Array.from({ length: 20 }, (_, i) => push(appId, u, { subscriptionId: s.id, dueAt: now - 100 + i, payload: `{"n":${i}}` })));
      await store.push.enqueue([push(appId, u, { dueAt: now + 60_000, payload: '{"later":1}' })]);
      const [a, b] = await Promise.all([store.push.claim(now, 30_000, 100), second.push.claim(now, 30_000, 100)]);
      const mine = <T extends { appId: number }>(ps: T[]): T[] => ps.filter((p) => p.appId === appId);
      const claimed = [...mine(a), ...mine(b)];
      assert.equal(claimed.length, 20);
      assert.equal(new Set(claimed.map((p) => p.id)).size, 20, 'no push is claimed twice');
      assert.ok(claimed.every((p) => p.attempts === 1));
      assert.deepEqual(mine(await store.push.claim(now + 1000, 30_000, 100)), [], 'leased pushes are not claimable');
      const [first, second_, third, fourth] = claimed;
      await store.push.complete(first.id, { kind: 'sent' }, new Date(now));
      await store.push.complete(second_.id, { kind: 'retry', at: now + 5000, error: '503 ServiceUnavailable' }, new Date(now));
      await store.push.complete(third.id, { kind: 'failed', error: '400 BadDeviceToken' }, new Date(now));
      await store.push.complete(fourth.id, { kind: 'unregistered', error: '410 Unregistered' }, new Date(now));
      assert.deepEqual(await store.push.listSubscriptions(appId, u), [], '410 removes the subscription');
      const expired = mine(await store.push.claim(now + 31_000, 30_000, 100));
      assert.deepEqual(expired.map((p) => p.id).sort((x, y) => x - y), claimed.slice(1).filter((p) => p !== third && p !== fourth).map((p) => p.id).sort((x, y) => x - y),
        'an expired lease and a retry that came due are claimable again; finished pushes are not');
      assert.equal(expired.find((p) => p.id === second_.id)?.attempts, 2);
      const all = await store.push.outbox({ appId });
      assert.equal(all.find((p) => p.id === first.id)?.state, 'sent');
      assert.ok(all.find((p) => p.id === first.id)?.sentAt);
      assert.equal(all.find((p) => p.id === third.id)?.lastError, '400 BadDeviceToken');
      assert.equal(all.find((p) => p.id === fourth.id)?.subscriptionId, null);
    });

    it('collapses a push into a pending one with the same key, not into one being delivered', async () => {
      const { appId, users: [u] } = await appWithUsers(1);
      const key = `alert:${appId}:${u}`;
      const now = Date.now();
      await store.push.enqueue([push(appId, u, { collapseKey: key, payload: '{"n":1}', dueAt: now + 60_000 })]);
      await store.push.enqueue([push(appId, u, { collapseKey: key, payload: '{"n":2}', dueAt: now + 60_000 })]);
      let rows = await store.push.outbox({ appId });
      assert.deepEqual(rows.map((p) => p.payload), ['{"n":2}']);
      const claimed = (await store.push.claim(now + 60_000, 30_000, 100)).filter((p) => p.appId === appId);
      assert.equal(claimed.length, 1);
      await store.push.enqueue([push(appId, u, { collapseKey: key, payload: '{"n":3}', dueAt: now })]);
      rows = await store.push.outbox({ appId });
      assert.deepEqual(rows.map((p) => p.payload), ['{"n":2}', '{"n":3}']);
      await store.push.complete(claimed[0].id, { kind: 'sent' }, new Date());
      assert.ok((await store.push.purgeOutbox(Date.now() + 1)) >= 1);
      assert.deepEqual((await store.push.outbox({ appId })).map((p) => p.payload), ['{"n":3}'], 'finished pushes are purged, pending ones never');
    });
  });
}
