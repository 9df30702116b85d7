import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DuplicateMessageIdError, type ChatMessage, type NewDialog } from '../types.js';
import { openPostgresStore, type PostgresStore } from './index.js';
import { createTestSchema } from './test-schema.js';

const baseUrl = process.env.PARLEY_TEST_DATABASE_URL;

if (!baseUrl) {
  it('PostgreSQL private message batches', { skip: 'PARLEY_TEST_DATABASE_URL is not set' }, () => {});
} else {
  describe('PostgreSQL private message batches', () => {
    let store: PostgresStore;
    let appId: number;
    let clock = 1_700_000_000;
    let schema: Awaited<ReturnType<typeof createTestSchema>>;
    // This store's connections go by a name of their own, so that a test can end them without ending
    // those of test files running beside it on the same database.
    const applicationName = `parley_batch_${randomBytes(4).toString('hex')}`;
    before(async () => {
      schema = await createTestSchema(baseUrl, 'parley_test_batch');
      const url = new URL(schema.url);
      url.searchParams.set('application_name', applicationName);
      store = await openPostgresStore(url.toString());
      appId = (await store.accounts.createApplication({ name: 'batch' })).id;
    });
    after(async () => {
      await store.close();
      await schema.drop();
    });

    const objectId = () => randomBytes(12).toString('hex');
    const users = async (n: number) => {
      const ids: number[] = [];
      for (let i = 0; i < n; i++) ids.push((await store.accounts.createUser(appId, { login: `u${objectId()}`, password: 'pw' })).id);
      return ids;
    };
    const dialogFor = (a: number, b: number): NewDialog => ({
      id: objectId(), appId, type: 3, name: null, photo: null, data: null, ownerId: a, occupantIds: [a, b], adminIds: [],
      isJoinRequired: false, createdAt: new Date(clock * 1000),
    });
    const message = (senderId: number, recipientId: number, body: string, id = objectId()): ChatMessage => {
      clock++;
      return {
        id, appId, dialogId: '', senderId, recipientId, body, dateSent: clock, attachments: [{ type: 'image', id: '7' }],
        customParams: { k: 'v' }, markable: true, readIds: [senderId], deliveredIds: [senderId],
        createdAt: new Date(clock * 1000), updatedAt: new Date(clock * 1000),
      };
    };
    const send = (m: ChatMessage) =>
      store.chat.insertPrivateMessage(dialogFor(m.senderId, m.recipientId), m, { unreadFor: [m.recipientId], unhideFor: [m.senderId] });
    const unread = async (dialogId: string, userId: number) => (await store.chat.getMemberState(dialogId, userId)).unreadCount;
    const bodies = async (dialogId: string) =>
      (await store.pool.query<{ body: string }>('SELECT body FROM messages WHERE dialog_id = $1 ORDER BY seq', [dialogId])).rows.map((r) => r.body);

    it('writes the messages of one turn in one statement, as one message at a time would', async () => {
      const [a, b, c] = await users(3);
      const before = await send(message(a, c, 'c1'));
      await store.chat.hideDialog(before!.dialog.id, c);
      const taken = message(a, b, 'first');
      await send(taken);
      const [d, e] = await users(2);
      const stranger = e + 1_000_000;
      const batches = store.chat.messageBatches.batches;

      const de = [message(d, e, 'de1'), message(e, d, 'ed1'), message(d, e, 'de2')];
      const dc = [message(d, c, 'dc1')];
      const ac = [message(a, c, 'c2'), message(c, a, 'c3')];
      const results = await Promise.all([
        send(de[0]!), send(ac[0]!), send(de[1]!), send(message(d, stranger, 'nobody')), send(dc[0]!), send(ac[1]!), send(de[2]!),
        send({ ...message(d, b, 'taken'), id: taken.id }).catch((err: unknown) => err),
      ]);
      assert.equal(store.chat.messageBatches.batches, batches + 1);
      const [de0, ac0, de1, nobody, dc0, ac1, de2, dup] = results as Awaited<ReturnType<typeof send>>[];
      assert.ok(dup instanceof DuplicateMessageIdError);
      assert.equal(nobody, null);
      assert.equal(await store.chat.findPrivateDialog(appId, d, stranger), null);

      // A new pair: its first message opens the dialog, the others of the batch go into it.
      assert.deepEqual([de0?.created, de1?.created, de2?.created], [true, false, false]);
      const deId = de0!.dialog.id;
      assert.deepEqual([de1?.dialog.id, de2?.dialog.id, ...de.map((m) => m.dialogId)], [deId, deId, deId, deId, deId]);
      assert.deepEqual(await bodies(deId), ['de1', 'ed1', 'de2']);
      assert.deepEqual([await unread(deId, d), await unread(deId, e)], [1, 2]);
      const deStored = await store.chat.getDialog(appId, deId);
      assert.deepEqual([deStored?.lastMessage, deStored?.lastMessageId, deStored?.lastMessageUserId, deStored?.occupantIds],
        ['de2', de[2]!.id, d, [d, e]]);
      assert.equal(deStored?.updatedAt.getTime(), Math.max(de0!.dialog.createdAt.getTime(), de[2]!.createdAt.getTime()));
      assert.deepEqual(await store.chat.getMessage(appId, de[1]!.id), de[1]);
      assert.equal(dc0?.created, true);

      // An existing dialog: counters, last message and the hidden flag follow every message of the batch.
      assert.deepEqual([ac0?.created, ac1?.created, ac0?.dialog.id, ac1?.dialog.id], [false, false, before!.dialog.id, before!.dialog.id]);
      assert.deepEqual(await bodies(before!.dialog.id), ['c1', 'c2', 'c3']);
      assert.deepEqual([await unread(before!.dialog.id, a), await unread(before!.dialog.id, c)], [1, 1]);
      assert.equal((await store.chat.getMemberState(before!.dialog.id, c)).hidden, false);
      assert.equal((await store.chat.getDialog(appId, before!.dialog.id))?.lastMessageId, ac[1]!.id);
    });

    it('a new pair whose first message has no user as opponent is opened by its first message that has, as one at a time', async () => {
      const outcome = async (together: boolean) => {
        const [d] = await users(1);
        const stranger = d! + 5_000_000;
        const sent = [message(d!, stranger, 'lost'), message(stranger, d!, 'back'), message(d!, stranger, 'again')];
        const results = together ? await Promise.all(sent.map(send)) : [await send(sent[0]!), await send(sent[1]!), await send(sent[2]!)];
        const dialogId = results[1]?.dialog.id;
        return {
          results: results.map((r) => r && { created: r.created, same: r.dialog.id === dialogId }),
          bodies: await bodies(dialogId!),
          unread: [await unread(dialogId!, d!), await unread(dialogId!, stranger)],
          last: (await store.chat.getDialog(appId, dialogId!))?.lastMessage,
          dialogIds: sent.map((m) => m.dialogId === dialogId),
        };
      };
      const batches = store.chat.messageBatches.batches;
      const batched = await outcome(true);
      assert.equal(store.chat.messageBatches.batches, batches + 1);
      const alone = await outcome(false);
      assert.deepEqual(batched, alone);
      assert.deepEqual(batched.results, [null, { created: true, same: true }, { created: false, same: true }]);
      assert.deepEqual([batched.bodies, batched.unread, batched.last], [['back', 'again'], [1, 1], 'again']);
    });

    it('messages of one pair over many turns commit in order while other pairs\' batches are in flight', async () => {
      const pairs = [];
      for (let i = 0; i < 4; i++) pairs.push(await users(2));
      const pending: Promise<unknown>[] = [];
      const sent = new Map<number, string[]>();
      for (let turn = 0; turn < 30; turn++) {
        for (const [i, [a, b]] of pairs.entries()) {
          if ((turn + i) % 3 === 0) continue;
          const body = `${turn}`;
          sent.set(i, [...(sent.get(i) ?? []), body]);
          pending.push(send(turn % 2 === 0 ? message(a!, b!, body) : message(b!, a!, body)));
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const results = (await Promise.all(pending)) as Awaited<ReturnType<typeof send>>[];
      for (const [i, [a, b]] of pairs.entries()) {
        const dialog = await store.chat.findPrivateDialog(appId, a!, b!);
        assert.deepEqual(await bodies(dialog!.id), sent.get(i));
        const unreadA = sent.get(i)!.filter((t) => Number(t) % 2 === 1).length;
        assert.deepEqual([await unread(dialog!.id, a!), await unread(dialog!.id, b!)], [unreadA, sent.get(i)!.length - unreadA]);
      }
      assert.equal(results.filter((r) => r?.created).length, pairs.length);
    });

    it('a dialog locked by a long transaction holds up its own batch only: the other pairs are written meanwhile', async () => {
      const [a, b, c, d] = await users(4);
      const held = (await send(message(a!, b!, 'before')))!.dialog.id;
      const locker = await store.pool.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT id FROM dialogs WHERE id = $1 FOR NO KEY UPDATE', [held]);
        let stalledDone = false;
        const stalled = send(message(b!, a!, 'while locked')).then((r) => { stalledDone = true; return r; });
        await new Promise((resolve) => setTimeout(resolve, 50));
        const others = await Promise.race([
          Promise.all([send(message(c!, d!, 'free')), send(message(a!, c!, 'also free'))]),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the other pairs waited for the locked dialog')), 5000)),
        ]);
        assert.deepEqual(others.map((r) => r?.created), [true, true]);
        assert.equal(stalledDone, false);
        await locker.query('COMMIT');
        assert.equal((await stalled)?.dialog.id, held);
        assert.deepEqual(await bodies(held), ['before', 'while locked']);
      } finally {
        await locker.query('ROLLBACK'); // after the COMMIT above only a warning: nothing in progress
        locker.release();
      }
    });

    it('messages to known dialogs (group and private) of one turn go in one batch, as one at a time would', async () => {
      const [a, b, c] = await users(3);
      const group = await store.chat.createDialog({ ...dialogFor(a!, b!), type: 2, occupantIds: [a!, b!, c!] });
      const priv = (await send(message(a!, b!, 'opened')))!.dialog;
      await store.chat.hideDialog(group.id, c!);
      const inGroup = (sender: number, body: string) => ({ ...message(sender, 0, body), dialogId: group.id });
      const toPriv = (sender: number, body: string) => ({ ...message(sender, sender === a ? b! : a!, body), dialogId: priv.id });
      const sent = [inGroup(a!, 'g1'), toPriv(b!, 'p1'), inGroup(b!, 'g2'), toPriv(a!, 'p2'), inGroup(c!, 'g3')];
      const batches = store.chat.messageBatches.batches;
      const results = await Promise.all([
        ...sent.map((m) => store.chat.insertMessage(m, {
          unreadFor: (m.dialogId === group.id ? [a!, b!, c!] : [a!, b!]).filter((u) => u !== m.senderId), unhideFor: [m.senderId],
        })),
        store.chat.insertMessage({ ...inGroup(a!, 'dup'), id: sent[0]!.id }, { unreadFor: [], unhideFor: [] }).catch((err: unknown) => err),
      ]);
      assert.equal(store.chat.messageBatches.batches, batches + 2, 'one batch, and the taken id in the next one');
      assert.ok(results[5] instanceof DuplicateMessageIdError);
      assert.deepEqual([await bodies(group.id), await bodies(priv.id)], [['g1', 'g2', 'g3'], ['opened', 'p1', 'p2']]);
      assert.deepEqual([await unread(group.id, a!), await unread(group.id, b!), await unread(group.id, c!)], [2, 2, 2]);
      assert.deepEqual([await unread(priv.id, a!), await unread(priv.id, b!)], [1, 2]);
      assert.equal((await store.chat.getMemberState(group.id, c!)).hidden, false);
      const [g, p] = [await store.chat.getDialog(appId, group.id), await store.chat.getDialog(appId, priv.id)];
      assert.deepEqual([g?.lastMessageId, g?.lastMessageUserId, p?.lastMessageId, p?.lastMessage], [sent[4]!.id, c, sent[3]!.id, 'p2']);
      assert.deepEqual(await store.chat.getMessage(appId, sent[1]!.id), sent[1]);
    });

    it('a batch takes a found dialog\'s lock before its members\' rows, as markMessages does: no deadlock between them', async () => {
      const [a, b] = await users(2);
      const dialogId = (await send(message(a!, b!, 'first')))!.dialog.id;
      const locker = await store.pool.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT id FROM dialogs WHERE id = $1 FOR NO KEY UPDATE', [dialogId]);
        const sent = send(message(a!, b!, 'second'));
        await new Promise((resolve) => setTimeout(resolve, 100));
        // The batch waits for the dialog, holding none of its members' rows: this update does not wait for it.
        await locker.query("SET LOCAL lock_timeout = '500ms'");
        await locker.query('UPDATE dialog_members SET unread_count = 0 WHERE dialog_id = $1 AND user_id = $2', [dialogId, b]);
        await locker.query('COMMIT');
        assert.equal((await sent)?.dialog.id, dialogId);
        assert.equal(await unread(dialogId, b!), 1);
      } finally {
        await locker.query('ROLLBACK');
        locker.release();
      }
    });

    it('a kept connection that the server ends is dropped: the next batch gets another one', async () => {
      const [a, b] = await users(2);
      await send(message(a!, b!, 'before'));
      const admin = await openPostgresStore(schema.url);
      try {
        const { rows } = await admin.pool.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE application_name = $1 AND datname = current_database() AND state = 'idle'`, [applicationName]);
        assert.ok(rows[0]!.n > 0);
      } finally {
        await admin.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const after = await send(message(b!, a!, 'after'));
      assert.deepEqual(await bodies(after!.dialog.id), ['before', 'after']);
    });

    it('an id twice in one turn: the second waits for the next batch and is found taken there', async () => {
      const [a, b] = await users(2);
      const first = message(a, b, 'one');
      const [stored, again] = await Promise.all([send(first), send({ ...message(a, b, 'two'), id: first.id }).catch((err: unknown) => err)]);
      assert.equal(stored?.created, true);
      assert.ok(again instanceof DuplicateMessageIdError);
      assert.deepEqual(await bodies(stored!.dialog.id), ['one']);
    });

    it('a message the statement cannot store fails alone: the rest of its batch is written one by one', async () => {
      const [a, b, c] = await users(3);
      const good = [message(a, b, 'fine'), message(b, c, 'also fine')];
      const [one, bad, two] = await Promise.all([send(good[0]!), send(message(a, c, 'bad \u0000 byte')).catch((err: unknown) => err), send(good[1]!)]);
      assert.ok(bad instanceof Error && !(bad instanceof DuplicateMessageIdError));
      assert.equal(await store.chat.findPrivateDialog(appId, a, c), null);
      assert.deepEqual([one?.created, two?.created], [true, true]);
      assert.deepEqual(await bodies(one!.dialog.id), ['fine']);
      assert.deepEqual(await bodies(two!.dialog.id), ['also fine']);
      assert.equal(await unread(two!.dialog.id, c), 1);
    });

    it('two nodes opening the same new pairs at once end with one dialog per pair and every message in it', async () => {
      const node2 = await openPostgresStore(schema.url);
      try {
        const pairs = [];
        for (let i = 0; i < 6; i++) pairs.push(await users(2));
        const sent = pairs.flatMap(([a, b]) => [message(a!, b!, 'x'), message(b!, a!, 'y')]);
        const on = (s: PostgresStore, m: ChatMessage) =>
          s.chat.insertPrivateMessage(dialogFor(m.senderId, m.recipientId), m, { unreadFor: [m.recipientId], unhideFor: [m.senderId] });
        const results = await Promise.all(sent.map((m, i) => on(i % 2 === 0 ? store : node2, m)));
        for (const [i, [a, b]] of pairs.entries()) {
          const dialog = await store.chat.findPrivateDialog(appId, a!, b!);
          assert.deepEqual([results[2 * i]?.dialog.id, results[2 * i + 1]?.dialog.id], [dialog?.id, dialog?.id]);
          assert.deepEqual((await bodies(dialog!.id)).sort(), ['x', 'y']);
          assert.deepEqual([await unread(dialog!.id, a!), await unread(dialog!.id, b!)], [1, 1]);
        }
      } finally {
        await node2.close();
      }
    });
  });
}
