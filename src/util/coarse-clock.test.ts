import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { coarseNow } from './coarse-clock.js';

describe('coarseNow', () => {
  it('is Date.now() read once per synchronous run, read again after it', async () => {
    const first = coarseNow();
    assert.ok(Math.abs(first - Date.now()) < 50);
    const spin = Date.now() + 5;
    while (Date.now() < spin);
    assert.equal(coarseNow(), first, 'the same run sees one time');
    await Promise.resolve();
    assert.ok(coarseNow() >= first + 5, 'a later microtask reads the clock again');
    await sleep(20);
    assert.ok(coarseNow() >= first + 25, 'so does a later task');
  });
});
