// Writes chat history as JSON lines or CSV to a stream, one message at a time, so an export of
// any size runs in constant memory. Messages are QuickBlox message objects (the REST shape).
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { stringify } from 'csv-stringify';

export type ExportFormat = 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

export type ExportedMessage = Record<string, unknown>;

const CSV_COLUMNS = ['_id', 'chat_dialog_id', 'date_sent', 'sender_id', 'recipient_id', 'message', 'attachments', 'read_ids', 'delivered_ids', 'created_at', 'updated_at', 'custom'];
const CORE_FIELDS = new Set([...CSV_COLUMNS, 'read', 'markable']);

function csvRow(m: ExportedMessage): string[] {
  const custom: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(m)) if (!CORE_FIELDS.has(key)) custom[key] = value;
  const text = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return CSV_COLUMNS.map((column) => (column === 'custom' ? (Object.keys(custom).length ? JSON.stringify(custom) : '') : text(m[column])));
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/** Streams every message to `out` in the format; returns how many were written. */
export async function exportHistory(
  messages: AsyncIterable<ExportedMessage>,
  format: ExportFormat,
  out: Writable,
  onProgress?: (written: number) => void,
): Promise<number> {
  let count = 0;
  if (format === 'jsonl') {
    for await (const m of messages) {
      await write(out, JSON.stringify(m) + '\n');
      count++;
      onProgress?.(count);
    }
    return count;
  }
  // Cells starting with = + - @ tab or CR are prefixed with ' so a spreadsheet shows them instead of running them.
  const csv = stringify({ header: true, columns: CSV_COLUMNS, escape_formulas: true });
  const pump = (async () => {
    for await (const chunk of csv) await write(out, String(chunk));
  })();
  for await (const m of messages) {
    if (!csv.write(csvRow(m))) await once(csv, 'drain');
    count++;
    onProgress?.(count);
  }
  csv.end();
  await pump;
  return count;
}
