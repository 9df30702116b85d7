// Makes a WAL database's recent commits durable off the event loop. With `synchronous = FULL`
// SQLite calls fsync inside COMMIT, blocking the (single) JavaScript thread for the whole disk
// flush; committing with `synchronous = NORMAL` and then calling fdatasync on the WAL file from
// libuv's thread pool gives the same guarantee (the commit frames are on disk before anyone is
// told) while the thread goes on serving. Concurrent requests share one flush: whoever asks
// while a flush runs waits for the next one, which starts as soon as it ends.
import { open, type FileHandle } from 'node:fs/promises';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class WalSync {
  private handle: FileHandle | null = null;
  private waiting: Waiter[] = [];
  private running: Promise<void> | null = null;

  /** `walPath` is the database's `-wal` file; SQLite keeps it (same inode) while a connection is open. */
  constructor(private readonly walPath: string) {}

  /** Resolves once every commit written before the call is on disk. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Waits for the flushes in progress, then releases the file. */
  async close(): Promise<void> {
    await this.running;
    await this.handle?.close();
    this.handle = null;
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const waiters = this.waiting;
      this.waiting = [];
      try {
        this.handle ??= await open(this.walPath, 'r');
        await this.handle.datasync();
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.running = null;
  }
}
