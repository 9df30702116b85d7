import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { exportHistory, type ExportedMessage } from './history.js';

const messages: ExportedMessage[] = [
  { _id: 'a'.repeat(24), chat_dialog_id: 'd'.repeat(24), message: 'hello, "world"\nline two', date_sent: 1700000000, sender_id: 1, recipient_id: 2, read_ids: [1], delivered_ids: [1, 2], attachments: [{ type: 'image', id: '7' }], created_at: '2023-11-14T22:13:20Z', updated_at: '2023-11-14T22:13:20Z', read: 0, mood: 'happy' },
  { _id: 'b'.repeat(24), chat_dialog_id: 'd'.repeat(24), message: 'second', date_sent: 1700000001, sender_id: 2, recipient_id: 1, read_ids: [2], delivered_ids: [2], attachments: [], created_at: '2023-11-14T22:13:21Z', updated_at: '2023-11-14T22:13:21Z', read: 0 },
];

async function* source(list: ExportedMessage[]) {
  yield* list;
}

async function run(format: 'jsonl' | 'csv', list = messages) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const progress: number[] = [];
  const count = await exportHistory(source(list), format, out, (n) => progress.push(n));
  out.end();
  return { text, count, progress };
}

describe('history export', () => {
  it('writes JSON lines, one message object per line', async () => {
    const { text, count, progress } = await run('jsonl');
    assert.equal(count, 2);
    assert.deepEqual(progress, [1, 2]);
    assert.deepEqual(text.trimEnd().split('\n').map((l) => JSON.parse(l)), messages);
  });

  it('writes CSV with a header, quoting, JSON for lists and custom fields in one column', async () => {
    const { text, count } = await run('csv');
    assert.equal(count, 2);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 2);
    assert.equal(rows[0].message, 'hello, "world"\nline two');
    assert.equal(rows[0].attachments, '[{"type":"image","id":"7"}]');
    assert.equal(rows[0].delivered_ids, '[1,2]');
    assert.equal(rows[0].custom, '{"mood":"happy"}');
    assert.equal(rows[1].custom, '');
    assert.equal(rows[1].sender_id, '2');
  });

  it('counts without a progress callback', async () => {
    for (const format of ['jsonl', 'csv'] as const) {
      const out = new PassThrough();
      out.resume();
      assert.equal(await exportHistory(source(messages), format, out), 2, format);
    }
  });

  it('writes only the header for an empty history', async () => {
    const { text, count } = await run('csv', []);
    assert.equal(count, 0);
    assert.equal(text.trim().split('\n').length, 1);
    assert.match(text, /^_id,chat_dialog_id,date_sent/);
  });
});
