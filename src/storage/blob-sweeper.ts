// Removes blob files whose database row is gone. Deleting an application or a user deletes its blob
// rows in the database (by cascade, from the CLI, the console or REST) but cannot reach the files,
// so they are collected here instead. A row is always created before its file is written, so a
// file without a row is an orphan; files younger than `graceMs` are left alone all the same.
import type { BlobFiles } from './blob-files.js';
import type { BlobStore } from './blob-types.js';

export interface SweepResult {
  checked: number;
  removed: number;
}

export async function sweepOrphanBlobFiles(files: BlobFiles, blobs: BlobStore, options: { now?: Date; graceMs?: number } = {}): Promise<SweepResult> {
  const cutoff = (options.now ?? new Date()).getTime() - (options.graceMs ?? 10 * 60_000);
  const result: SweepResult = { checked: 0, removed: 0 };
  for await (const file of files.list()) {
    if (file.modifiedAt.getTime() > cutoff) continue;
    result.checked++;
    if ((await blobs.getBlobByUid(file.uid)) === null) {
      await files.remove(file.uid);
      result.removed++;
    }
  }
  return result;
}

/** Sweeps a minute after start, then every `everyMs`; returns a function that stops it. */
export function scheduleBlobSweeps(
  files: BlobFiles,
  blobs: BlobStore,
  report: { done(result: SweepResult): void; failed(err: unknown): void },
  everyMs = 6 * 3600_000,
): () => void {
  let running = false;
  const sweep = () => {
    if (running) return;
    running = true;
    sweepOrphanBlobFiles(files, blobs).then(report.done, report.failed).finally(() => (running = false));
  };
  const first = setTimeout(sweep, 60_000);
  const timer = setInterval(sweep, everyMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
