// List pages answered on the SQLite read workers (page-render.ts) against the same requests answered
// on the main thread of a second app over the same database file: byte for byte, headers included,
// for messages with custom parameters, attachments, markers and odd text, for dialogs, counts and
// errors; a page that marks messages read is rendered on a worker and marked once, on the main thread;
// and pages rendered by SQLite equal those built from views.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import qs from 'qs';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config/load.js';
import { openSqliteStore, type SqliteStore } from '../storage/sqlite/index.js';
import { ChatService } from '../chat/service.js';
import { chatLimits } from '../chat/limits.js';
import { buildRestApp } from './app.js';
import { chatRoutes } from './chat.js';
import { renderedReads } from './page-render.js';
import { signedSessionParams, PASSWORD } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-page-render-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function appOver(store: SqliteStore): Promise<FastifyInstance> {
  const config = loadConfig({ file: null, env: {}, overrides: { domain: 'chat.test', rest_page_max_bytes: 6000 } });
  const chat = new ChatService(store, { mucDomain: `muc.${config.domain}`, limits: chatLimits(config) });
  return buildRestApp({ store, config, log: pino({ level: 'silent' }), chat }, { plugins: [chatRoutes] });
}

describe('REST list pages rendered on the read workers', () => {
  let pooled: SqliteStore, plain: SqliteStore;
  let onWorkers: FastifyInstance, onMain: FastifyInstance;
  let annT: string, bobT: string, annId: number, bobId: number;
  let privateId: string, groupId: string;

  before(async () => {
    const file = join(dir, 'chat.db');
    pooled = await openSqliteStore(file, { workers: 2, maxQueue: 64 });
    plain = await openSqliteStore(file);
    onWorkers = await appOver(pooled);
    onMain = await appOver(plain);
    const application = await pooled.accounts.createApplication({ name: 'test' });
    const ann = await pooled.accounts.createUser(application.id, { login: 'ann', password: PASSWORD });
    const bob = await pooled.accounts.createUser(application.id, { login: 'bob', password: PASSWORD });
    annId = ann.id;
    bobId = bob.id;
    const session = async (login: string) =>
      (await onWorkers.inject({ method: 'POST', url: '/session.json', payload: signedSessionParams(application, { user: { login, password: PASSWORD } }) })).json().session.token as string;
    [annT, bobT] = [await session('ann'), await session('bob')];
    const post = async (token: string, url: string, data: Record<string, unknown>) => {
      const res = await onWorkers.inject({
        method: 'POST', url, headers: { 'qb-token': token, 'content-type': 'application/x-www-form-urlencoded' }, payload: qs.stringify(data),
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json();
    };
    privateId = (await post(annT, '/chat/Dialog.json', { type: 3, occupants_ids: String(bob.id) }))._id;
    groupId = (await post(annT, '/chat/Dialog.json', { type: 2, name: 'group "one"', occupants_ids: String(bob.id), data: {} }))._id;
    const odd = ['plain', 'quote " backslash \\ slash /', 'controls \u0000\u0001\b\t\n\f\r\u001f\u007f', 'line sep \u2028 \u2029', 'emoji 😀 é ß', '<b>&amp;</b>'];
    for (let n = 0; n < 40; n++) {
      await post(n % 2 ? bobT : annT, '/chat/Message.json', {
        chat_dialog_id: n % 3 ? privateId : groupId, message: `${odd[n % odd.length]} ${n}`, send_to_chat: 0,
        ...(n % 4 === 0 ? { attachments: { 0: { type: 'image', id: String(n), name: 'a "b"' } } } : {}),
        ...(n % 5 === 0 ? { markable: 1 } : {}),
        ...(n % 3 === 0 ? { mood: `m${n}`, level: String(n) } : {}),
      });
    }
  });
  after(async () => {
    await onWorkers.close();
    await onMain.close();
    await plain.close();
    await pooled.close();
  });

  const both = async (token: string, url: string) => {
    const headers = { 'qb-token': token };
    const [w, m] = [await onWorkers.inject({ method: 'GET', url, headers }), await onMain.inject({ method: 'GET', url, headers })];
    const strip = (h: Record<string, unknown>) => ({ ...h, date: undefined, 'qb-token-expirationdate': undefined });
    return { w, m, same: () => { assert.equal(w.statusCode, m.statusCode, url); assert.equal(w.body, m.body, url); assert.deepEqual(strip(w.headers), strip(m.headers), url); } };
  };

  it('answers message pages, counts and errors as the main thread does', async () => {
    for (const url of [
      `/chat/Message.json?chat_dialog_id=${privateId}&mark_as_read=0`,
      `/chat/Message.json?chat_dialog_id=${groupId}&mark_as_read=0&limit=7&skip=3`,
      `/chat/Message.json?chat_dialog_id=${privateId}&mark_as_read=0&sort_desc=date_sent&limit=100`,
      `/chat/Message.json?chat_dialog_id=${privateId}&mark_as_read=0&count=1`,
      `/chat/Message.json?chat_dialog_id=${groupId}&mark_as_read=0&date_sent[gt]=1`,
      `/chat/Message.json?chat_dialog_id=${groupId}&mark_as_read=0&include_reactions=1`,
      `/chat/Message.json?chat_dialog_id=000000000000000000000000`,
      `/chat/Message.json?chat_dialog_id=${groupId}&limit=abc`,
      '/chat/Message.json',
    ]) (await both(annT, url)).same();
    // The workers answered the pages (the one with limit=abc marks messages read) and the count; the
    // two errors went back to the main thread (reactions are not asked of them).
    assert.equal(renderedReads.answered, 6);
    assert.equal(renderedReads.declined, 2);
  });

  it('answers dialog pages and counts as the main thread does', async () => {
    for (const url of ['/chat/Dialog.json', '/chat/Dialog.json?limit=1&skip=1', '/chat/Dialog.json?count=1', '/chat/Dialog.json?sort_asc=name', '/chat/Dialog.json?type=2']) {
      (await both(annT, url)).same();
      (await both(bobT, url)).same();
    }
    assert.equal(renderedReads.answered, 6 + 10);
  });

  it('tells total_entries from a rendered page that is not full, and counts otherwise', async () => {
    const headers = { 'qb-token': annT };
    const count = (await onMain.inject({ method: 'GET', url: '/chat/Dialog.json?count=1', headers })).json().items.count as number;
    assert.ok(count >= 2);
    for (const app of [onWorkers, onMain]) {
      for (const paging of ['', 'limit=1', 'limit=1&skip=1', `skip=${count - 1}`, `skip=${count}`, `skip=${count + 5}`, 'limit=100&skip=0']) {
        const page = (await app.inject({ method: 'GET', url: `/chat/Dialog.json?${paging}`, headers })).json();
        assert.equal(page.total_entries, count, paging);
      }
    }
  });

  it('renders a page that marks messages read on a worker, and marks it on the main thread once', async () => {
    const url = `/chat/Message.json?chat_dialog_id=${privateId}&limit=100`;
    const unread = async () => (await onWorkers.inject({ method: 'GET', url: `/chat/Message/unread.json?chat_dialog_ids=${privateId}`, headers: { 'qb-token': bobT } })).json()[privateId];
    const before = await unread();
    assert.ok(before > 0);
    const { answered, declined } = renderedReads;
    const reads = pooled.chat.listMessages.bind(pooled.chat);
    let mainReads = 0;
    pooled.chat.listMessages = (query) => {
      mainReads++;
      return reads(query);
    };
    const first = await onWorkers.inject({ method: 'GET', url, headers: { 'qb-token': bobT } });
    pooled.chat.listMessages = reads;
    assert.equal(first.statusCode, 200);
    // The worker read and rendered the page; the main thread only marked it (no page read of its own).
    assert.deepEqual([renderedReads.answered, renderedReads.declined, mainReads], [answered + 1, declined, 0]);
    // The page (cut short by rest_page_max_bytes) was marked read: ann's messages on it no longer count.
    const items = first.json().items as { sender_id: number; read_ids: number[]; delivered_ids: number[] }[];
    const fromAnn = items.filter((m) => m.sender_id === annId).length;
    assert.ok(fromAnn > 0 && first.json().limit < 100);
    assert.equal(await unread(), before - fromAnn);
    // It shows the messages as they are once marked: what the main thread answers now, byte for byte
    // (now one message shorter: the page was measured against its byte budget before the marks).
    assert.ok(items.every((m) => m.read_ids.includes(bobId) && m.delivered_ids.includes(bobId)));
    const now = await onMain.inject({ method: 'GET', url: `${url}&mark_as_read=0`, headers: { 'qb-token': bobT } });
    const itemsText = (body: string) => body.slice(body.indexOf('"items":[') + 9, -2);
    assert.ok(now.json().items.length >= items.length - 1);
    assert.ok(`${itemsText(first.body)},`.startsWith(`${itemsText(now.body)},`), 'marked page = the page read now');
    // Read again: nothing left to mark, the same as the main thread.
    (await both(bobT, url)).same();
    assert.equal(renderedReads.answered, answered + 2);
  });

  it('renders pages in SQLite as the chat layer builds them from views (include_reactions=0 takes the views)', async () => {
    for (const id of [privateId, groupId]) {
      for (const query of ['', '&sort_desc=date_sent', '&limit=5&skip=2', '&limit=100&skip=1']) {
        const url = `/chat/Message.json?chat_dialog_id=${id}&mark_as_read=0${query}`;
        const headers = { 'qb-token': annT };
        const [sql, views] = [await onMain.inject({ method: 'GET', url, headers }), await onMain.inject({ method: 'GET', url: `${url}&include_reactions=0`, headers })];
        assert.equal(sql.statusCode, 200);
        assert.equal(sql.body, views.body, url);
      }
    }
  });
});
