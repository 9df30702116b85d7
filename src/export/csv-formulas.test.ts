// CSV export neutralizes formulas: a message text (or custom field) that a spreadsheet would run
// as a formula comes out prefixed with ', shown as text.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { exportHistory, type ExportedMessage } from './history.js';

const message = (text: string, extra: Record<string, unknown> = {}): ExportedMessage => ({
  _id: 'a'.repeat(24), chat_dialog_id: 'd'.repeat(24), message: text, date_sent: 1700000000, sender_id: 1, recipient_id: 2,
  read_ids: [1], delivered_ids: [1], attachments: [], created_at: '2023-11-14T22:13:20Z', updated_at: '2023-11-14T22:13:20Z', read: 0, ...extra,
});

async function csv(list: ExportedMessage[]): Promise<Record<string, string>[]> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  await exportHistory((async function* () { yield* list; })(), 'csv', out);
  out.end();
  return parse(text, { columns: true }) as Record<string, string>[];
}

describe('CSV export and spreadsheet formulas', () => {
  it('prefixes cells starting with = + - @ tab or CR, and leaves other text alone', async () => {
    const dangerous = ['=HYPERLINK("http://evil","x")', '+1+cmd|" /C calc"!A0', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];
    const rows = await csv([...dangerous.map((t) => message(t)), message('plain = text'), message('x', { note: '=1' })]);
    assert.deepEqual(rows.slice(0, dangerous.length).map((r) => r.message), dangerous.map((t) => `'${t}`));
    assert.equal(rows[dangerous.length].message, 'plain = text');
    assert.equal(rows[dangerous.length].sender_id, '1');
    assert.equal(rows[dangerous.length + 1].custom, '{"note":"=1"}', 'a JSON cell starts with { and is safe');
  });
});
