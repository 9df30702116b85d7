import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { LogRing } from './log-ring.js';

test('keeps only warnings and errors, newest first, up to its capacity', () => {
  const ring = new LogRing(3);
  const log = pino({ level: 'debug' }, ring);
  log.info('not kept');
  log.warn({ app: 1 }, 'first');
  log.error({ err: new Error('boom') }, 'second');
  log.debug('not kept either');
  ring.write('not json\n');
  ring.write(`${JSON.stringify({ level: 60, time: 5, msg: 'third' })}\n`);
  log.warn('fourth');
  const entries = ring.recent();
  assert.deepEqual(entries.map((e) => e.msg), ['fourth', 'third', 'second']);
  assert.deepEqual(entries.map((e) => e.level), ['warn', 'fatal', 'error']);
  assert.equal((entries[2].fields.err as { message: string }).message, 'boom');
  assert.equal('pid' in entries[0].fields || 'hostname' in entries[0].fields, false);
  assert.deepEqual(ring.recent(1).map((e) => e.msg), ['fourth']);
});
