// `parley export`: a dialog's or an application's whole history as JSON lines or CSV, to a file
// or stdout, with a progress bar when stderr is a terminal.
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { ChatService } from '../chat/service.js';
import { normalizeObjectId } from '../chat/objectid.js';
import { exportHistory, type ExportFormat } from '../export/history.js';
import type { Store } from '../storage/types.js';

export interface ExportOptions {
  appId: number;
  dialogId?: string;
  format: ExportFormat;
  /** A file path; stdout when absent. */
  file?: string;
}

async function countMessages(store: Store, appId: number, dialogId?: string): Promise<number> {
  // viewerId 0 is no user, so nothing is left out as deleted-for-me.
  const count = (id: string) => store.chat.countMessages({ dialogId: id, viewerId: 0, filters: [] });
  if (dialogId) return count(dialogId);
  let total = 0;
  for (let after: string | null = null; ;) {
    const ids = await store.chat.dialogIds(appId, after, 500);
    if (ids.length === 0) return total;
    for (const id of ids) total += await count(id);
    after = ids[ids.length - 1];
  }
}

/** Writes the export and returns how many messages it holds; throws on an unknown dialog. */
export async function exportCommand(store: Store, mucDomain: string, options: ExportOptions, stderr: NodeJS.WriteStream | null): Promise<number> {
  let dialogId: string | undefined;
  if (options.dialogId !== undefined) {
    dialogId = normalizeObjectId(options.dialogId) ?? undefined;
    if (!dialogId || !(await store.chat.getDialog(options.appId, dialogId))) {
      throw new Error(`dialog ${options.dialogId} does not exist in application ${options.appId}`);
    }
  }
  const chat = new ChatService(store, { mucDomain });
  const messages = (async function* () {
    for await (const batch of chat.iterateHistory({ appId: options.appId, dialogId })) yield* batch;
  })();
  const out: Writable = options.file ? createWriteStream(options.file) : process.stdout;
  const bar = stderr?.isTTY ? new cliProgress.SingleBar({ stream: stderr, format: 'exporting [{bar}] {value}/{total} messages' }, cliProgress.Presets.shades_classic) : null;
  if (bar) bar.start(await countMessages(store, options.appId, dialogId), 0);
  try {
    return await exportHistory(messages, options.format, out, bar ? (n) => n % 500 === 0 && bar.update(n) : undefined);
  } finally {
    bar?.stop();
    if (options.file) {
      out.end();
      await finished(out);
    }
  }
}
