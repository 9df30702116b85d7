// The default-list cache reads a list again once it is older than freshMs, keeps the old value
// readable meanwhile, and holds at most `capacity` users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultLists } from './default-lists.js';
import type { EffectiveList } from '../../chat/privacy.js';

const list = (name: string) => ({ list: { name, items: [] } }) as unknown as EffectiveList;

test('a default list is read again after freshMs; the previous value stays known until then', async () => {
  let clock = 0;
  const stored = new Map<number, EffectiveList | null>([[1, null]]);
  let loads = 0;
  const lists = new DefaultLists(async (id) => (loads++, stored.get(id) ?? null), { freshMs: 5000, capacity: 10, now: () => clock });
  assert.equal(lists.known(1), undefined);
  assert.equal(await lists.get(1), null);
  stored.set(1, list('blocklist')); // changed elsewhere (another node)
  clock = 4999;
  assert.equal(await lists.get(1), null);
  assert.equal(lists.fresh(1), null);
  assert.equal(loads, 1);
  clock = 5000;
  assert.equal(lists.fresh(1), undefined, 'due to be read again');
  assert.equal(lists.known(1), null, 'still readable synchronously');
  assert.equal((await lists.get(1))?.list.name, 'blocklist');
  assert.equal(loads, 2);
});

test('holds at most capacity users, dropping the least recently loaded', async () => {
  const lists = new DefaultLists(async () => null, { freshMs: 5000, capacity: 3 });
  for (const id of [1, 2, 3]) await lists.get(id);
  lists.set(1, list('again'));
  await lists.get(4);
  assert.equal(lists.size, 3);
  assert.equal(lists.known(2), undefined);
  assert.equal(lists.known(1)?.list.name, 'again');
});
