import { stat } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import type { StoreHealth } from '../health-types.js';

export class SqliteStoreHealth implements StoreHealth {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      ping: db.prepare<[], { ok: number }>('SELECT 1 AS ok'),
      offline: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM offline_messages'),
    };
  }

  async ping(): Promise<void> {
    if (!this.db.open) throw new Error('the database is closed');
    this.s.ping.get();
    // A database whose directory became read-only, or a full disk, fails here rather than on the next message.
    if (this.db.readonly) throw new Error(`${this.db.name} is open read-only`);
  }

  async sizeBytes(): Promise<number> {
    if (this.db.memory) return 0;
    const sizes = await Promise.all(['', '-wal'].map((suffix) => stat(this.db.name + suffix).then((st) => st.size, () => 0)));
    return sizes[0]! + sizes[1]!;
  }

  async offlineMessages(): Promise<number> {
    return this.s.offline.get()!.n;
  }
}
