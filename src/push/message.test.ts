// QuickBlox's message forms: universal base64 (JSON or text), APNs payload= and FCM data.*=, and
// what each becomes for each provider.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../chat/errors.js';
import { apnsDelivery, apnsFromUniversal, cgiEscape, fcmFromUniversal, parseEventMessage } from './message.js';
import { alertText } from './alerts.js';
import { backoff } from './delivery.js';
import { nextPeriodRun } from './service.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('push message forms', () => {
  it('normalises a plain-text gcm message the way QuickBlox does (CGI-escaped, then base64)', () => {
    assert.equal(cgiEscape('hello QuickBlox!'), 'hello+QuickBlox%21');
    const parsed = parseEventMessage(b64('hello QuickBlox!'), 'gcm');
    assert.equal(parsed.stored, 'data.message=aGVsbG8rUXVpY2tCbG94JTIx');
    assert.deepEqual(parsed.fcm?.data, { message: 'hello QuickBlox!' });
  });

  it('reads data.* pairs for gcm and payload= for apns', () => {
    const gcm = parseEventMessage(`data.message=${b64(cgiEscape('Hi Bob'))}&data.dialog_id=${b64('d1')}`, 'gcm');
    assert.deepEqual(gcm.fcm?.data, { message: 'Hi Bob', dialog_id: 'd1' });
    const apns = parseEventMessage(`payload=${b64(cgiEscape(JSON.stringify({ aps: { alert: 'Hi', sound: 'default' }, k: 1 })))}`, 'apns');
    assert.deepEqual(apns.apns?.body, { aps: { alert: 'Hi', sound: 'default' }, k: 1 });
  });

  it('turns a universal message into an APNs body and FCM data', () => {
    const fields = parseEventMessage(b64(JSON.stringify({ message: 'Ann is calling', ios_badge: '2', ios_sound: 'ring', ios_voip: '1', VOIPCall: '1', sessionID: 's1' })), null).universal!;
    assert.deepEqual(apnsFromUniversal(fields).body, { VOIPCall: '1', sessionID: 's1', aps: { alert: 'Ann is calling', badge: 2, sound: 'ring' } });
    assert.deepEqual(fcmFromUniversal(fields).data, { message: 'Ann is calling', VOIPCall: '1', sessionID: 's1' });
    assert.deepEqual(parseEventMessage(b64('just text'), null).universal, { message: 'just text' });
    assert.deepEqual(apnsDelivery('apns', { aps: { 'content-available': 1 } }), { pushType: 'background', priority: '5' });
  });

  it('refuses malformed base64, blank messages and gcm forms without data.message, with a 422 on message', () => {
    for (const [raw, type] of [['not base64!!', null], ['', null], ['YWJj=', null], [`data.other=${b64('x')}`, 'gcm'], ['payload=@@@', 'apns']] as const) {
      assert.throws(() => parseEventMessage(raw, type), (err: unknown) => err instanceof ApiError && err.status === 422 && err.field === 'message', String(raw));
    }
  });
});

describe('push helpers', () => {
  it('fills the alert template, with a placeholder for attachments', () => {
    const settings = { enabled: true, template: null };
    assert.equal(alertText(settings, 'Ann', { body: 'Hello', attachments: [] }, { name: null }), 'Ann: Hello');
    assert.equal(alertText(settings, 'Ann', { body: '', attachments: [{ type: 'image' }] }, { name: null }), 'Ann: [attachment]');
    assert.equal(alertText({ enabled: true, template: '{sender} in {dialog}: {text}' }, 'Ann', { body: 'Hi', attachments: [] }, { name: 'Team' }), 'Ann in Team: Hi');
  });

  it('backs off exponentially with jitter, capped', () => {
    assert.equal(backoff(1, 1000, 300_000, () => 1), 1000);
    assert.equal(backoff(3, 1000, 300_000, () => 0), 2000);
    assert.equal(backoff(30, 1000, 300_000, () => 1), 300_000);
  });

  it('schedules period_date runs on whole periods from the start and stops at end_date', () => {
    const e = { date: 1000, period: 86_400, endDate: 1000 + 2 * 86_400 };
    assert.equal(nextPeriodRun(e, 0), 1_000_000);
    assert.equal(nextPeriodRun(e, 1_000_000), 1_000_000 + 86_400_000);
    assert.equal(nextPeriodRun(e, 1_000_000 + 2 * 86_400_000), null);
  });
});
