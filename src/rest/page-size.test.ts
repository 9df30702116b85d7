// Response size: a message's text and custom fields are capped, and one page of messages or
// dialogs stays under rest_page_max_bytes (4 MiB by default) however large its items, while
// paging by skip + limit still visits every item exactly once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { restHarness, PASSWORD, type RestHarness } from './harness.js';
import { chatRoutes } from './chat.js';
import type { User } from '../storage/types.js';

const PAGE_BYTES = 4 * 1024 * 1024;
/** The longest text allowed, in a 3-byte character: about 96 KB of JSON per message. */
const BIG_TEXT = '€'.repeat(32_768);

describe('REST response size', () => {
  let h: RestHarness;
  let ann: User, bob: User;
  let annT: string, bobT: string;
  let dialogId = '';
  before(async () => {
    h = await restHarness({}, { plugins: [chatRoutes] });
    [ann, bob] = [await h.newUser(), await h.newUser()];
    [annT, bobT] = await Promise.all([ann, bob].map((u) => h.session({ login: u.login, password: PASSWORD })));
    const dialog = await post(annT, '/chat/Dialog.json', { type: 2, name: 'big', occupants_ids: [bob.id] });
    dialogId = dialog.json()._id;
  });
  after(() => h.close());

  const post = (token: string, url: string, payload: Record<string, unknown>) =>
    h.request({ method: 'POST', url, headers: { 'qb-token': token, 'content-type': 'application/json' }, payload });
  const get = (token: string, url: string) => h.request({ method: 'GET', url, headers: { 'qb-token': token } });

  it('refuses a message text past 32,768 characters and custom parameters past 16 KiB with 422', async () => {
    const long = await post(annT, '/chat/Message.json', { chat_dialog_id: dialogId, message: 'x'.repeat(32_769) });
    assert.equal(long.statusCode, 422);
    assert.deepEqual(long.json(), { errors: { message: ['is too long (maximum is 32768 characters)'] } });
    const custom = await post(annT, '/chat/Message.json', { chat_dialog_id: dialogId, message: 'hi', mood: 'y'.repeat(17_000) });
    assert.equal(custom.statusCode, 422);
    assert.deepEqual(custom.json(), { errors: { custom_parameters: ['is too large (maximum is 16384 bytes)'] } });
    const attachments = await post(annT, '/chat/Message.json', { chat_dialog_id: dialogId, attachments: [{ type: 'image', url: 'u'.repeat(17_000) }] });
    assert.equal(attachments.statusCode, 422);
    const data = await post(annT, '/chat/Dialog.json', { type: 2, name: 'd', occupants_ids: [bob.id], data: { note: 'z'.repeat(17_000) } });
    assert.equal(data.statusCode, 422);
    assert.deepEqual(data.json(), { errors: { data: ['is too large (maximum is 16384 bytes)'] } });
    const edit = await h.request({ method: 'PUT', url: `/chat/Message/${'a'.repeat(24)}.json`, headers: { 'qb-token': annT, 'content-type': 'application/json' }, payload: { chat_dialog_id: dialogId, message: 'x'.repeat(40_000) } });
    assert.notEqual(edit.statusCode, 200);
    const atLimit = await post(annT, '/chat/Message.json', { chat_dialog_id: dialogId, message: 'x'.repeat(32_768), mood: 'y'.repeat(16_000) });
    assert.equal(atLimit.statusCode, 201, atLimit.body.slice(0, 200));
  });

  it('GET /chat/Message.json?limit=1000 over 120 messages of ~100 KB stays under 4 MiB and pages through all of them', async () => {
    for (let i = 0; i < 120; i++) {
      const res = await post(annT, '/chat/Message.json', { chat_dialog_id: dialogId, message: BIG_TEXT, seq: String(i) });
      assert.equal(res.statusCode, 201, res.body.slice(0, 200));
    }
    const url = `/chat/Message.json?chat_dialog_id=${dialogId}&limit=1000&mark_as_read=0`;
    assert.ok(url.length < 150);
    const first = await get(bobT, url);
    assert.equal(first.statusCode, 200);
    assert.ok(first.rawPayload.length <= PAGE_BYTES + 1024, `one page weighs ${first.rawPayload.length} bytes`);
    const firstPage = first.json();
    assert.ok(firstPage.items.length >= 30 && firstPage.items.length < 121, `${firstPage.items.length} items`);
    assert.equal(firstPage.limit, firstPage.items.length, 'a page cut by size reports how many it holds');

    const seen: string[] = [];
    let skip = 0;
    for (let pages = 0; pages < 20; pages++) {
      const res = await get(bobT, `/chat/Message.json?chat_dialog_id=${dialogId}&limit=1000&skip=${skip}&mark_as_read=0`);
      assert.ok(res.rawPayload.length <= PAGE_BYTES + 1024);
      const page = res.json();
      seen.push(...page.items.filter((m: { seq?: string }) => m.seq !== undefined).map((m: { seq: string }) => m.seq));
      if (page.items.length < page.limit || page.items.length === 0) break;
      skip += page.limit;
    }
    assert.deepEqual(seen, Array.from({ length: 120 }, (_, i) => String(i)), 'every message once, in order');
  });

  it('GET /chat/Dialog.json over 60 dialogs whose last message is ~100 KB stays under 4 MiB and pages through all of them', async () => {
    for (let i = 0; i < 60; i++) {
      const d = await post(annT, '/chat/Dialog.json', { type: 2, name: `d${i}`, occupants_ids: [bob.id] });
      await post(annT, '/chat/Message.json', { chat_dialog_id: d.json()._id, message: BIG_TEXT });
    }
    const first = await get(bobT, '/chat/Dialog.json?limit=100');
    assert.ok(first.rawPayload.length <= PAGE_BYTES + 1024, `one page weighs ${first.rawPayload.length} bytes`);
    const ids = new Set<string>();
    let skip = 0;
    let total = 0;
    for (let pages = 0; pages < 20; pages++) {
      const page = (await get(bobT, `/chat/Dialog.json?limit=100&skip=${skip}`)).json();
      total = page.total_entries;
      for (const d of page.items) ids.add(d._id);
      if (page.items.length < page.limit || page.items.length === 0) break;
      skip += page.limit;
    }
    assert.equal(total, 61);
    assert.equal(ids.size, 61);
  });
});
