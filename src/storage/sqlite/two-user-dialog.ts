// Test support for the read-pool tests: an application with users `a` and `b` and their private dialog.
import type { Dialog } from '../types.js';
import type { SqliteStore } from './index.js';

export async function twoUsersInADialog(store: SqliteStore): Promise<{ dialog: Dialog; a: number; b: number }> {
  const app = await store.accounts.createApplication({});
  const a = (await store.accounts.createUser(app.id, { login: 'a', password: 'pw' })).id;
  const b = (await store.accounts.createUser(app.id, { login: 'b', password: 'pw' })).id;
  const { dialog } = await store.chat.findOrCreatePrivateDialog({
    id: '5f0000000000000000000001', appId: app.id, type: 3, name: null, photo: null, ownerId: a, occupantIds: [a, b],
    adminIds: [], data: null, isJoinRequired: false, createdAt: new Date(1_700_000_000_000),
  });
  return { dialog, a, b };
}
