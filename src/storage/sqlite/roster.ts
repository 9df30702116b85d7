import type Database from 'better-sqlite3';
import type { RosterItem, RosterStore, Subscription } from '../types.js';

interface Row {
  jid: string;
  name: string | null;
  subscription: Subscription;
  ask: number;
  groups: string;
}

const toItem = (r: Row): RosterItem => ({
  jid: r.jid,
  name: r.name,
  subscription: r.subscription,
  ask: r.ask !== 0,
  groups: JSON.parse(r.groups) as string[],
});

export class SqliteRosterStore implements RosterStore {
  private readonly s;

  constructor(db: Database.Database) {
    const columns = 'jid, name, subscription, ask, groups';
    this.s = {
      all: db.prepare<[number], Row>(`SELECT ${columns} FROM roster_items WHERE user_id = ? ORDER BY jid`),
      get: db.prepare<[number, string], Row>(`SELECT ${columns} FROM roster_items WHERE user_id = ? AND jid = ?`),
      upsert: db.prepare<[number, string, string | null, Subscription, number, string]>(
        `INSERT INTO roster_items (user_id, jid, name, subscription, ask, groups) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, jid) DO UPDATE SET
           name = excluded.name, subscription = excluded.subscription, ask = excluded.ask, groups = excluded.groups`),
      remove: db.prepare<[number, string]>('DELETE FROM roster_items WHERE user_id = ? AND jid = ?'),
    };
  }

  async getRoster(userId: number): Promise<RosterItem[]> {
    return this.s.all.all(userId).map(toItem);
  }

  async getItem(userId: number, jid: string): Promise<RosterItem | null> {
    const row = this.s.get.get(userId, jid);
    return row ? toItem(row) : null;
  }

  async setItem(userId: number, item: RosterItem): Promise<void> {
    this.s.upsert.run(userId, item.jid, item.name, item.subscription, item.ask ? 1 : 0, JSON.stringify(item.groups));
  }

  async removeItem(userId: number, jid: string): Promise<boolean> {
    return this.s.remove.run(userId, jid).changes > 0;
  }
}
