import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HookBus } from './hooks.js';

test('run with maxPriority skips the handlers above it', async () => {
  const bus = new HookBus();
  const ran: number[] = [];
  for (const p of [100, 0, -10]) bus.on('e', () => void ran.push(p), p);
  bus.on('e', () => 'taken', -20);
  assert.equal(await bus.run('e', {}), 'taken');
  assert.deepEqual(ran, [100, 0, -10]);
  ran.length = 0;
  assert.equal(await bus.run('e', {}, 0), 'taken');
  assert.deepEqual(ran, [0, -10]);
});
