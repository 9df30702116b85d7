// Password hashing stays off the libuv pool: while dozens of scrypt verifications are queued, a
// file-system call (what the store's WAL fdatasync is) still gets a libuv thread at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, verifyPasswordHash } from './password.js';

describe('scrypt off the libuv pool', () => {
  it('an fdatasync is not queued behind 40 password verifications', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-scrypt-'));
    const file = await open(join(dir, 'wal'), 'w');
    try {
      const encoded = await hashPassword('the right one');
      await file.write('x');
      const guesses = Array.from({ length: 40 }, (_, i) => verifyPasswordHash(`guess ${i}`, encoded));
      const start = performance.now();
      await file.datasync();
      const ms = performance.now() - start;
      const results = await Promise.all(guesses);
      assert.ok(results.every((ok) => ok === false));
      // 40 scrypts of ~50 ms on libuv's 4 threads would hold it ~500 ms.
      assert.ok(ms < 150, `fdatasync waited ${ms.toFixed(0)} ms`);
      assert.equal(await verifyPasswordHash('the right one', encoded), true);
    } finally {
      await file.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
