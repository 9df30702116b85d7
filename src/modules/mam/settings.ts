// The per-application archive setting: `mam_archive_all` (default off) makes every chat and
// groupchat message with content archived, not only those with save_to_history=1. Read through a
// short cache, so that a change made on one node (or by the CLI) applies everywhere within seconds.
import type { KeyValueStore } from '../../storage/account-data-types.js';

export const ARCHIVE_ALL_KEY = 'mam_archive_all';
const CACHE_MS = 5000;
const CACHE_LIMIT = 10_000;

export class ArchiveSettings {
  private readonly cache = new Map<number, { value: boolean; until: number }>();

  constructor(private readonly store: KeyValueStore, private readonly now: () => number = Date.now) {}

  /** The setting when the cache still holds it: lets the message path decide without a promise. */
  known(appId: number): boolean | undefined {
    const hit = this.cache.get(appId);
    return hit && hit.until > this.now() ? hit.value : undefined;
  }

  async archiveAll(appId: number): Promise<boolean> {
    const known = this.known(appId);
    if (known !== undefined) return known;
    const value = (await this.store.get('app', appId, ARCHIVE_ALL_KEY)) === 'true';
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(appId, { value, until: this.now() + CACHE_MS });
    return value;
  }

  async setArchiveAll(appId: number, on: boolean): Promise<void> {
    await this.store.set('app', appId, ARCHIVE_ALL_KEY, on ? 'true' : null);
    this.cache.delete(appId);
  }
}
