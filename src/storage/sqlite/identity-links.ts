import type Database from 'better-sqlite3';
import type { IdentityLinkStore } from '../identity-links-types.js';

export class SqliteIdentityLinkStore implements IdentityLinkStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      find: db.prepare<[number, string], number>('SELECT user_id FROM identity_links WHERE app_id = ? AND uid = ?').pluck(),
      link: db.prepare<[number, string, number]>(
        'INSERT INTO identity_links (app_id, uid, user_id) VALUES (?, ?, ?) ON CONFLICT (app_id, uid) DO UPDATE SET user_id = excluded.user_id'),
    };
  }

  async findLinkedUser(appId: number, uid: string): Promise<number | null> {
    return this.s.find.get(appId, uid) ?? null;
  }

  async link(appId: number, uid: string, userId: number): Promise<void> {
    this.s.link.run(appId, uid, userId);
  }
}
