import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalRoomDirectory } from '../../cluster/local-rooms.js';
import type { ModuleApi } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import type { DataScope, KeyValueStore } from '../../storage/account-data-types.js';
import type { ChatStore, Dialog } from '../../storage/types.js';
import type { MucModule } from '../muc/index.js';
import { directoryKey, openRoomsContext, parseDirectoryKey } from './context.js';
import { OpenRoomStore } from './store.js';

/** A key-value store in memory that counts its reads. */
function countingStore(): KeyValueStore & { reads: number; data: Map<string, string> } {
  const data = new Map<string, string>();
  const key = (scope: DataScope, owner: number, k: string): string => `${scope}/${owner}/${k}`;
  return {
    data,
    reads: 0,
    async get(scope, owner, k) {
      this.reads++;
      return data.get(key(scope, owner, k)) ?? null;
    },
    async set(scope, owner, k, value) {
      if (value === null) data.delete(key(scope, owner, k));
      else data.set(key(scope, owner, k), value);
    },
    async keys() {
      return [];
    },
  };
}

const dialog = (id: string, ageMs: number): Dialog => ({ id, appId: 7, type: 2, createdAt: new Date(Date.now() - ageMs) }) as Dialog;

test('which open room a dialog is, read once per dialog; "none" remembered only for dialogs older than a minute', async () => {
  const kv = countingStore();
  const store = new OpenRoomStore(kv);
  const muc = { directory: new LocalRoomDirectory() } as unknown as MucModule;
  const ctx = openRoomsContext({} as ModuleApi, {} as ChatService, {} as ChatStore, store, muc);
  await kv.set('app', 7, 'muc-dialog:aaaaaaaaaaaaaaaaaaaaaaaa', 'lobby');

  const open = dialog('aaaaaaaaaaaaaaaaaaaaaaaa', 1000);
  assert.equal(await ctx.nameOfDialog(open), 'lobby');
  assert.equal(await ctx.nameOfDialog(open), 'lobby');
  assert.equal(kv.reads, 1, 'an open room\'s name: read once');

  const old = dialog('bbbbbbbbbbbbbbbbbbbbbbbb', 120_000);
  assert.equal(await ctx.nameOfDialog(old), null);
  assert.equal(await ctx.nameOfDialog(old), null);
  assert.equal(kv.reads, 2, 'an older dialog that is no open room: read once');

  // A dialog made a moment ago may be an open room being created: asked again until it settles.
  const fresh = dialog('cccccccccccccccccccccccc', 10);
  assert.equal(await ctx.nameOfDialog(fresh), null);
  await kv.set('app', 7, 'muc-dialog:cccccccccccccccccccccccc', 'hall');
  assert.equal(await ctx.nameOfDialog(fresh), 'hall');
  assert.equal(kv.reads, 4);
});

test('directory keys keep the application apart and read back', () => {
  assert.notEqual(directoryKey(1, 'lobby@muc.x'), directoryKey(2, 'lobby@muc.x'));
  assert.deepEqual(parseDirectoryKey(directoryKey(12, 'a:b@muc.x')), { appId: 12, bare: 'a:b@muc.x' });
  assert.equal(parseDirectoryKey('12_0123456789abcdef01234567@muc.x'), null, 'a dialog room is not an open room');
});
