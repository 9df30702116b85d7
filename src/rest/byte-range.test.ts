import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseByteRange } from './byte-range.js';

describe('parseByteRange', () => {
  it('reads first-last, open-ended and suffix ranges, clipped to the file', () => {
    assert.deepEqual(parseByteRange('bytes=0-99', 1000), { start: 0, end: 99 });
    assert.deepEqual(parseByteRange('bytes=10-10', 1000), { start: 10, end: 10 });
    assert.deepEqual(parseByteRange('bytes=900-5000', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseByteRange('bytes=500-', 1000), { start: 500, end: 999 });
    assert.deepEqual(parseByteRange('bytes=-100', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseByteRange('bytes=-5000', 1000), { start: 0, end: 999 });
    assert.deepEqual(parseByteRange(' Bytes = 1 - 2 ', 1000), { start: 1, end: 2 });
  });

  it('calls ranges that start past the end, and empty suffixes, unsatisfiable', () => {
    assert.equal(parseByteRange('bytes=1000-', 1000), 'unsatisfiable');
    assert.equal(parseByteRange('bytes=1000-2000', 1000), 'unsatisfiable');
    assert.equal(parseByteRange('bytes=-0', 1000), 'unsatisfiable');
    assert.equal(parseByteRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseByteRange('bytes=-1', 0), 'unsatisfiable');
  });

  it('ignores what it does not serve: no header, other units, several ranges, bad syntax', () => {
    for (const header of [undefined, '', 'bytes=', 'bytes=-', 'items=0-1', 'bytes=0-1,5-6', 'bytes=5-1', 'bytes=a-b', 'bytes=1-2-3', 'bytes=99999999999999999999-']) {
      assert.equal(parseByteRange(header, 1000), null, String(header));
    }
  });
});
