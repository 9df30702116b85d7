// One server per SQLite data directory: `serve` takes <data_dir>/parley.lock (created exclusively,
// holding its pid) and a second server on the same directory refuses to start instead of becoming
// a second writer. A lock left by a process that no longer runs is taken over. Admin commands and
// the workers of `serve --workers` (whose primary holds the lock) do not take it.
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`another Parley server (pid ${pid}) is using the data directory ${dir}; stop it first (if none runs, remove ${join(dir, LOCK_FILE)})`);
    this.name = 'DataDirLockedError';
  }
}

const LOCK_FILE = 'parley.lock';

/** Takes the data directory's lock; resolves with its release. Throws DataDirLockedError when a live server holds it. */
export async function lockDataDir(dir: string): Promise<() => void> {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirLockedError(dir, pid);
      await unlink(file).catch(() => {}); // stale: its server is gone
    }
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return release;
}

/** The pid of the live server holding the data directory's lock, or null when none does. */
export function runningServerPid(dir: string): number | null {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(dir, LOCK_FILE), 'utf8'), 10);
  } catch {
    return null;
  }
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
