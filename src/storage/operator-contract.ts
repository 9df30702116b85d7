// Driver-neutral behaviour of OperatorStore (console operators and their sessions), and of the
// application changes only operators make (delete, rotate the auth secret).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DuplicateOperatorError } from './admin-types.js';
import type { Store } from './types.js';

export function operatorStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`OperatorStore contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });
    const email = () => `op-${randomBytes(4).toString('hex')}@Example.org`;

    it('creates operators with normalized emails, verifies passwords, refuses duplicates', async () => {
      const address = email();
      const op = await store.operators.createOperator({ email: `  ${address} `, password: 'correct horse', appIds: [3, 1, 3] });
      assert.equal(op.email, address.toLowerCase());
      assert.deepEqual(op.appIds, [1, 3]);
      assert.deepEqual(await store.operators.getOperator(op.id), op);
      assert.deepEqual(await store.operators.getOperatorByEmail(address.toUpperCase()), op);
      assert.deepEqual(await store.operators.verifyOperator(address, 'correct horse'), op);
      assert.equal(await store.operators.verifyOperator(address, 'wrong'), null);
      assert.equal(await store.operators.verifyOperator(`nobody-${address}`, 'correct horse'), null);
      await assert.rejects(store.operators.createOperator({ email: address.toUpperCase(), password: 'x', appIds: null }), DuplicateOperatorError);
      const all = await store.operators.createOperator({ email: email(), password: 'pw', appIds: null });
      assert.equal(all.appIds, null);
      const listed = await store.operators.listOperators();
      assert.ok(listed.some((o) => o.id === op.id) && listed.some((o) => o.id === all.id));
    });

    it('keeps sessions until they expire, are deleted, or their operator is deleted', async () => {
      const op = await store.operators.createOperator({ email: email(), password: 'pw', appIds: null });
      const now = Date.now();
      const live = { tokenHash: randomBytes(16).toString('hex'), operatorId: op.id, expiresAt: new Date(now + 60_000) };
      const stale = { tokenHash: randomBytes(16).toString('hex'), operatorId: op.id, expiresAt: new Date(now - 1000) };
      const other = { tokenHash: randomBytes(16).toString('hex'), operatorId: op.id, expiresAt: new Date(now + 60_000) };
      for (const s of [live, stale, other]) await store.operators.createOperatorSession(s);
      assert.deepEqual(await store.operators.getOperatorSession(live.tokenHash), live);
      await store.operators.extendOperatorSession(live.tokenHash, new Date(now + 120_000));
      assert.equal((await store.operators.getOperatorSession(live.tokenHash))?.expiresAt.getTime(), now + 120_000);
      await store.operators.purgeOperatorSessions(new Date(now));
      assert.equal(await store.operators.getOperatorSession(stale.tokenHash), null);
      assert.equal(await store.operators.deleteOperatorSession(other.tokenHash), true);
      assert.equal(await store.operators.deleteOperatorSession(other.tokenHash), false);
      assert.equal(await store.operators.deleteOperator(op.id), true);
      assert.equal(await store.operators.deleteOperator(op.id), false);
      assert.equal(await store.operators.getOperator(op.id), null);
      assert.equal(await store.operators.getOperatorSession(live.tokenHash), null);
    });

    it('rotates an application secret and deletes an application with its users, dialogs and history', async () => {
      const app = await store.accounts.createApplication({ name: 'doomed' });
      const keep = await store.accounts.createApplication({ name: 'kept' });
      const rotated = await store.accounts.rotateAuthSecret(app.id);
      assert.ok(rotated && rotated.authSecret !== app.authSecret);
      assert.equal(rotated.authKey, app.authKey);
      assert.deepEqual(await store.accounts.getApplication(app.id), rotated);
      assert.equal(await store.accounts.rotateAuthSecret(987654321), null);

      const a = await store.accounts.createUser(app.id, { login: 'a', password: 'pw' });
      const b = await store.accounts.createUser(app.id, { login: 'b', password: 'pw' });
      const kept = await store.accounts.createUser(keep.id, { login: 'a', password: 'pw' });
      const at = new Date();
      const dialogId = randomBytes(12).toString('hex');
      await store.chat.createDialog({ id: dialogId, appId: app.id, type: 3, name: null, photo: null, ownerId: a.id, occupantIds: [a.id, b.id], adminIds: [], data: null, isJoinRequired: false, createdAt: at } as never);
      await store.sessions.createSession({ token: randomBytes(8).toString('hex'), appId: app.id, userId: a.id, nonce: 1, ts: 1, expiresAt: new Date(Date.now() + 60_000) });
      assert.equal(await store.sessions.claimNonce(app.id, 42, 'n'), true);

      assert.equal(await store.accounts.deleteApplication(app.id), true);
      assert.equal(await store.accounts.deleteApplication(app.id), false);
      assert.equal(await store.accounts.getApplication(app.id), null);
      assert.equal(await store.accounts.getUser(app.id, a.id), null);
      assert.equal(await store.chat.getDialog(app.id, dialogId), null);
      assert.deepEqual(await store.accounts.getUser(keep.id, kept.id), kept);
      assert.equal(await store.sessions.claimNonce(app.id, 42, 'n'), true);
    });
  });
}
