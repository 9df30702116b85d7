import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '../../xml/element.js';
import { OutboundQueue, add32, ahead32, parseH } from './counters.js';

const msg = (n: number) => xml('message', { id: String(n) });
const MAX = 2 ** 32 - 1;

test('h parsing: unsigned 32-bit decimal only', () => {
  assert.equal(parseH('0'), 0);
  assert.equal(parseH(String(MAX)), MAX);
  for (const bad of [undefined, '', '-1', '1.5', 'x', ' 1', String(2 ** 32), '99999999999']) assert.equal(parseH(bad), null, String(bad));
});

test('sequence arithmetic wraps at 2^32', () => {
  assert.equal(add32(MAX, 1), 0);
  assert.equal(add32(MAX, 3), 2);
  assert.equal(ahead32(2, MAX), 3);
  assert.equal(ahead32(5, 5), 0);
});

test('acknowledging across the wrap, in order', () => {
  const q = new OutboundQueue(MAX - 1);
  const delivered: string[] = [];
  for (let i = 0; i < 5; i++) {
    q.push(msg(i), 0);
    q.attachOutcome(q.pending().at(-1)!.stanza, (ok) => ok && delivered.push(String(i)));
  }
  assert.equal(q.sent, 3); // MAX-1 + 5 wraps to 3
  assert.deepEqual(q.check(MAX), { kind: 'ok', count: 1 });
  q.ack(1);
  assert.deepEqual(q.check(1), { kind: 'ok', count: 2 }); // MAX → 0 → 1
  q.ack(2);
  assert.deepEqual(delivered, ['0', '1', '2']);
  assert.deepEqual(q.pending().map((p) => p.stanza.attrs.id), ['3', '4']);
  assert.deepEqual(q.check(3), { kind: 'ok', count: 2 });
});

test('an h behind the last acknowledgement is low; beyond what was sent is too high', () => {
  const q = new OutboundQueue(10);
  for (let i = 0; i < 4; i++) q.push(msg(i), 0);
  q.ack(2); // acked = 12, sent = 14
  assert.deepEqual(q.check(12), { kind: 'ok', count: 0 });
  assert.deepEqual(q.check(11), { kind: 'low' });
  assert.deepEqual(q.check(0), { kind: 'low' });
  assert.deepEqual(q.check(15), { kind: 'too-high' });
  assert.deepEqual(q.check(14 + 2 ** 30), { kind: 'too-high' });
  // Near the wrap: low and too-high still told apart.
  const w = new OutboundQueue(MAX);
  w.push(msg(0), 0); // sent = 0
  assert.deepEqual(w.check(MAX - 5), { kind: 'low' });
  assert.deepEqual(w.check(1), { kind: 'too-high' });
});

test('takeAll empties the queue and leaves nothing to acknowledge', () => {
  const q = new OutboundQueue();
  q.push(msg(0), 0);
  q.push(msg(1), 0);
  assert.equal(q.takeAll().length, 2);
  assert.equal(q.length, 0);
  assert.deepEqual(q.check(2), { kind: 'ok', count: 0 });
});

test('an outcome attaches only to the stanza just queued, once', () => {
  const q = new OutboundQueue();
  const a = msg(0);
  q.push(a, 0);
  assert.equal(q.attachOutcome(msg(9), () => {}), false);
  assert.equal(q.attachOutcome(a, () => {}), true);
  assert.equal(q.attachOutcome(a, () => {}), false);
});
