import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isObjectId, newObjectId, normalizeObjectId, objectIdTime } from './objectid.js';

describe('ObjectId', () => {
  it('makes unique 24-hex ids that carry their creation second', () => {
    const now = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const ids = Array.from({ length: 1000 }, () => newObjectId(now));
    assert.equal(new Set(ids).size, 1000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{24}$/);
    assert.equal(objectIdTime(ids[0]).getTime(), Date.UTC(2024, 0, 2, 3, 4, 5));
  });

  it('orders ids by time', () => {
    const earlier = newObjectId(Date.UTC(2020, 0, 1));
    const later = newObjectId(Date.UTC(2020, 0, 1, 0, 0, 1));
    assert.ok(earlier < later);
  });

  it('validates and normalizes', () => {
    assert.equal(isObjectId('6b06dfc27862583174000000'), true);
    assert.equal(isObjectId('6B06DFC27862583174000000'), true);
    for (const bad of ['6b06dfc2786258317400000', '6b06dfc278625831740000000', 'zz06dfc27862583174000000', '', 42, null, undefined]) {
      assert.equal(isObjectId(bad), false, String(bad));
      assert.equal(normalizeObjectId(bad), null);
    }
    assert.equal(normalizeObjectId('6B06DFC27862583174000000'), '6b06dfc27862583174000000');
  });
});
