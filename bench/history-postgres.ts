// History paging on PostgreSQL at scale: one dialog with --messages messages (default 1,000,000),
// then the time of a 100-message page read the ways the server reads them.
//   PARLEY_TEST_DATABASE_URL=postgres://… node dist/bench/history-postgres.js [--messages 1000000]
// Works in a schema of its own, dropped at the end.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openPostgresStore } from '../src/storage/postgres/index.js';
import { createTestSchema } from '../src/storage/postgres/test-schema.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' } } });
const count = Number(values.messages);
const baseUrl = process.env.PARLEY_TEST_DATABASE_URL;
if (!baseUrl) throw new Error('set PARLEY_TEST_DATABASE_URL');

const schema = await createTestSchema(baseUrl, 'parley_bench');
const store = await openPostgresStore(schema.url);
try {
  const app = await store.accounts.createApplication({ name: 'bench' });
  const [a, b] = [await store.accounts.createUser(app.id, { login: 'a', password: 'pw' }), await store.accounts.createUser(app.id, { login: 'b', password: 'pw' })];
  const dialog = await store.chat.createDialog({
    id: randomBytes(12).toString('hex'), appId: app.id, type: 3, name: null, photo: null, ownerId: a.id, occupantIds: [a.id, b.id], adminIds: [],
    data: null, isJoinRequired: false, createdAt: new Date(),
  });
  let started = performance.now();
  // Ids like ObjectIds (24 hex); a few messages share each second, as in a busy dialog.
  await store.pool.query(
    `INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, read_ids, delivered_ids, created_at, updated_at)
     SELECT lpad(to_hex(i), 24, '0'), $1, $2, CASE WHEN i % 2 = 0 THEN $3::bigint ELSE $4::bigint END, 0, 'message ' || i,
       1600000000 + i / 4, '{}', '{}', 1600000000000 + i, 1600000000000 + i
     FROM generate_series(1, $5::int) AS i`, [app.id, dialog.id, a.id, b.id, count]);
  await store.pool.query('ANALYZE messages');
  console.log(`inserted ${count} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const time = async (label: string, fn: () => Promise<unknown[]>) => {
    const runs: number[] = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      rows = (await fn()).length;
      runs.push(performance.now() - started);
    }
    console.log(`${label}: ${rows} rows, best ${Math.min(...runs).toFixed(2)} ms, first ${runs[0].toFixed(2)} ms`);
  };
  const page = { dialogId: dialog.id, viewerId: a.id, filters: [], limit: 100 };
  await time('first page, oldest first', () => store.chat.listMessages({ ...page, skip: 0 }));
  await time('first page, newest first', () => store.chat.listMessages({ ...page, skip: 0, sort: { field: 'date_sent', direction: 'desc' } }));
  await time('page after a date_sent (lt filter), newest first', () =>
    store.chat.listMessages({ ...page, skip: 0, sort: { field: 'date_sent', direction: 'desc' }, filters: [{ field: 'date_sent', op: 'lt', value: 1600000000 + count / 8 }] }));
  await time('export batch from a cursor in the middle', () =>
    store.chat.historyBatch(app.id, dialog.id, { dateSent: 1600000000 + count / 8, id: '' }, 100));
  const m = { appId: app.id, dialogId: dialog.id, senderId: a.id, recipientId: b.id, body: 'new', dateSent: 1600000000 + count,
    attachments: [], customParams: {}, markable: false, readIds: [a.id], deliveredIds: [a.id], createdAt: new Date(), updatedAt: new Date() };
  started = performance.now();
  for (let i = 0; i < 100; i++) await store.chat.insertMessage({ ...m, id: randomBytes(12).toString('hex') }, { unreadFor: [b.id], unhideFor: [a.id] });
  console.log(`insertMessage: ${((performance.now() - started) / 100).toFixed(2)} ms each`);
} finally {
  await store.close();
  await schema.drop();
}
