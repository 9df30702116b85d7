import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemJsonBytes } from '../chat/limits.js';
import { messageView } from '../chat/views.js';
import { pageJson } from './page-json.js';

const message = (n: number) => messageView({
  id: `5f00000000000000${String(n).padStart(8, '0')}`, appId: 1, dialogId: '5f0000000000000000000001', senderId: 1, recipientId: 2,
  body: n % 2 ? `plain ${n}` : `"quoted" \\ é 😀 \u0001 \ud800 line\nbreak`, dateSent: 1_700_000_000 + n,
  attachments: n % 3 ? [] : [{ type: 'image', id: String(n), nested: { a: [1, null, 'x'] } }], customParams: n % 2 ? {} : { city: 'Zürich', n },
  markable: n % 2 === 0, readIds: [1, 2], deliveredIds: [1, 2, 3], createdAt: new Date(1_700_000_000_000 + n * 1000),
  updatedAt: new Date(1_700_000_000_000 + n * 1000),
}, 3);

test('a page written from its measured items is byte for byte JSON.stringify of the page', () => {
  const items = Array.from({ length: 20 }, (_, i) => message(i));
  let bytes = 0;
  for (const item of items) bytes += itemJsonBytes(item) + 1;
  const page = { skip: 40, limit: 20, items };
  assert.equal(pageJson(page), JSON.stringify(page));
  assert.equal(Buffer.byteLength(pageJson(page)), bytes - 1 + Buffer.byteLength('{"skip":40,"limit":20,"items":[]}'));
  // Items replaced after measuring (marked read, reactions attached) and items never measured.
  const replaced = { total_entries: 3, skip: 0, limit: 100, items: [items[0]!, { ...items[1]!, read: 1 }, message(99)] };
  assert.equal(pageJson(replaced), JSON.stringify(replaced));
  const empty = { skip: 0, limit: 100, items: [] };
  assert.equal(pageJson(empty), '{"skip":0,"limit":100,"items":[]}');
  // items not last: serialised as a whole.
  const reordered: { items: object[]; skip: number } = { items, skip: 1 };
  assert.equal(pageJson(reordered), JSON.stringify(reordered));
});
