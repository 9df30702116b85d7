import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chatFixture, MUC, rejectsWith, type ChatFixture } from './chat-fixture.js';
import type { DialogList } from './dialogs.js';
import type { Caller } from './service.js';

const sorted = (...ids: number[]) => [...ids].sort((a, b) => a - b);

describe('dialogs', () => {
  let f: ChatFixture;
  let a: Caller, b: Caller, c: Caller, d: Caller, stranger: Caller;
  before(async () => {
    f = await chatFixture();
    [a, b, c, d] = await f.newApp(4);
    [stranger] = await f.newApp(1);
  });
  after(() => f.close());

  const group = (owner: Caller, occupants: Caller[], extra: Record<string, unknown> = {}) =>
    f.chat.createDialog(owner, { type: '2', name: 'Team', occupants_ids: occupants.map((u) => u.userId).join(', '), ...extra });
  const list = async (caller: Caller, params: Record<string, unknown> = {}) => (await f.chat.listDialogs(caller, params)) as DialogList;

  describe('create', () => {
    it('creates a group with the caller added, in the exact QuickBlox shape', async () => {
      const dialog = await group(a, [b, c], { photo: 'cat.png', data: { class_name: 'Extra', topic: 'x' } });
      assert.match(dialog._id, /^[0-9a-f]{24}$/);
      assert.deepEqual(dialog, {
        _id: dialog._id, user_id: a.userId, type: 2, name: 'Team', photo: 'cat.png', xmpp_room_jid: `${a.appId}_${dialog._id}@${MUC}`,
        occupants_ids: sorted(a.userId, b.userId, c.userId), admin_ids: [], last_message: null, last_message_date_sent: null,
        last_message_id: null, last_message_user_id: null, unread_messages_count: 0, is_join_required: 1, is_joinable: 1,
        data: { class_name: 'Extra', topic: 'x' }, created_at: '2024-01-01T12:00:00Z', updated_at: '2024-01-01T12:00:00Z',
      });
    });

    it('accepts occupant lists as arrays, JSON strings and bracketed keys, and the join flag under both names', async () => {
      const fromArray = await f.chat.createDialog(a, { type: 2, name: 'n', occupants_ids: [b.userId, String(c.userId)], is_joinable: 0 });
      assert.deepEqual(fromArray.occupants_ids, sorted(a.userId, b.userId, c.userId));
      assert.deepEqual([fromArray.is_join_required, fromArray.is_joinable], [0, 0]);
      const fromJson = await f.chat.createDialog(a, { type: '2', name: 'n', occupants_ids: `[${b.userId}]`, is_join_required: '0' });
      assert.deepEqual(fromJson.occupants_ids, sorted(a.userId, b.userId));
      assert.equal(fromJson.is_join_required, 0);
      const bracketed = await f.chat.createDialog(a, { type: '2', name: 'n', occupants_ids: [`${b.userId},${c.userId}`] });
      assert.deepEqual(bracketed.occupants_ids, sorted(a.userId, b.userId, c.userId));
    });

    it('creates public dialogs without occupants', async () => {
      const pub = await f.chat.createDialog(a, { type: 1, name: 'Lobby', occupants_ids: `${b.userId}` });
      assert.deepEqual([pub.type, pub.occupants_ids, pub.is_join_required, pub.is_joinable], [1, [], null, 1]);
      assert.equal(pub.xmpp_room_jid, `${a.appId}_${pub._id}@${MUC}`);
    });

    it('keeps admins of groups among the occupants', async () => {
      const dialog = await group(a, [b, c], { admin_ids: `${b.userId}` });
      assert.deepEqual(dialog.admin_ids, [b.userId]);
      await rejectsWith(group(a, [b], { admin_ids: `${c.userId}` }), 'adminsNotFound', 'Users with these IDs for "admin_ids" do not exist.');
      await rejectsWith(group(a, [b], { admin_ids: 'one' }), 'badRequest', 'Incorrect format for parameter "admin_ids".');
    });

    it('refuses invalid dialogs', async () => {
      await rejectsWith(f.chat.createDialog(a, { name: 'x', occupants_ids: `${b.userId}` }), 'invalidField', "can't be blank", 'type');
      await rejectsWith(f.chat.createDialog(a, { type: 4, name: 'x' }), 'invalidField', 'is not included in the list', 'type');
      await rejectsWith(f.chat.createDialog(a, { type: 2, occupants_ids: `${b.userId}` }), 'invalidField', "can't be blank", 'name');
      await rejectsWith(f.chat.createDialog(a, { type: 1, name: '  ' }), 'invalidField', "can't be blank", 'name');
      await rejectsWith(group(a, [b], { name: 'x'.repeat(201) }), 'invalidField', 'is too long (maximum is 200 characters)', 'name');
      assert.equal((await group(a, [b], { name: '€'.repeat(200) })).name, '€'.repeat(200));
      await rejectsWith(f.chat.createDialog(a, { type: 2, name: 'x' }), 'invalidField', "can't be blank", 'occupants_ids');
      await rejectsWith(group(a, [b, stranger]), 'occupantsNotFound', 'Occupants with these IDs do not exist.');
      await rejectsWith(f.chat.createDialog(a, { type: 2, name: 'x', occupants_ids: '99999999' }), 'occupantsNotFound');
      await rejectsWith(f.chat.createDialog(a, { type: 2, name: 'x', occupants_ids: 'abc' }), 'badRequest', 'Incorrect format for parameter "occupants_ids".');
      await rejectsWith(f.chat.createDialog(a, { type: 2, name: 'x', occupants_ids: `${b.userId}`, data: '[1]' }), 'invalidField', 'is invalid', 'data');
      await rejectsWith(f.chat.createDialog(a, { type: 1, name: 'x', is_joinable: 0 }), 'invalidField', undefined, 'is_join_required');
      await rejectsWith(group(a, [b], { is_join_required: 'maybe' }), 'invalidField', 'is invalid', 'is_join_required');
    });
  });

  describe('private dialogs', () => {
    it('are created once per pair and reused by either side, whatever else is sent', async () => {
      const [x, y] = await f.newApp(2);
      const first = await f.chat.createDialog(x, { type: 3, occupants_ids: `${y.userId}`, name: 'Bob', data: { class_name: 'A' } });
      assert.deepEqual([first.type, first.xmpp_room_jid, first.is_join_required, first.is_joinable, first.admin_ids, first.name],
        [3, null, null, 0, [], 'Bob']);
      assert.deepEqual(first.occupants_ids, sorted(x.userId, y.userId));
      const again = await f.chat.createDialog(y, { type: 3, occupants_ids: [x.userId, y.userId], data: { class_name: 'B' }, admin_ids: `${y.userId}` });
      assert.equal(again._id, first._id);
      assert.deepEqual(again.data, { class_name: 'A' });
    });

    it('are reused after a delete for me, which hides the dialog and its history for that user only', async () => {
      const [x, y] = await f.newApp(2);
      const dialog = await f.chat.createDialog(x, { type: 3, occupants_ids: `${y.userId}` });
      await f.chat.createMessage(x, { chat_dialog_id: dialog._id, message: 'old' });
      assert.deepEqual(await f.chat.deleteDialogs(x, [dialog._id], false), { SuccessfullyDeleted: { ids: [dialog._id] }, WrongPermissions: { ids: [] }, NotFound: { ids: [] } });
      assert.equal((await list(x)).items.length, 0);
      assert.equal((await list(y)).items.length, 1);
      await rejectsWith(f.chat.getDialog(x, dialog._id), 'notFound');
      const reused = await f.chat.createDialog(x, { type: 3, occupants_ids: `${y.userId}` });
      assert.equal(reused._id, dialog._id);
      assert.deepEqual((await list(x)).items.map((i) => i._id), [dialog._id]);
      assert.deepEqual((await f.chat.listMessages(x, { chat_dialog_id: dialog._id }) as { items: unknown[] }).items, []);
      assert.equal((await f.chat.listMessages(y, { chat_dialog_id: dialog._id }) as { items: unknown[] }).items.length, 1);
    });

    it('refuses a second opponent, no opponent, and join flags', async () => {
      await rejectsWith(f.chat.createDialog(a, { type: 3, occupants_ids: `${b.userId},${c.userId}` }), 'tooManyOccupants', 'Too many occupants for Private Dialog.');
      await rejectsWith(f.chat.createDialog(a, { type: 3, occupants_ids: `${a.userId}` }), 'invalidField', "can't be blank", 'occupants_ids');
      await rejectsWith(f.chat.createDialog(a, { type: 3, occupants_ids: `${stranger.userId}` }), 'occupantsNotFound');
      await rejectsWith(f.chat.createDialog(a, { type: 3, occupants_ids: `${b.userId}`, is_joinable: 1 }), 'invalidField', undefined, 'is_join_required');
      assert.equal((await f.chat.createDialog(a, { type: 3, occupants_ids: `${a.userId}, ${b.userId}` })).type, 3, 'the caller may list themselves');
    });
  });

  describe('list and get', () => {
    it("lists the caller's dialogs and public ones with paging, sorting, filters and counts", async () => {
      const [x, y, z] = await f.newApp(3);
      const g1 = await f.chat.createDialog(x, { type: 2, name: 'Alpha', occupants_ids: `${y.userId}` });
      f.tick();
      const g2 = await f.chat.createDialog(y, { type: 2, name: 'Beta', occupants_ids: `${x.userId},${z.userId}` });
      f.tick();
      const pub = await f.chat.createDialog(z, { type: 1, name: 'Lobby' });
      f.tick();
      await f.chat.createDialog(y, { type: 2, name: 'Hidden from x', occupants_ids: `${z.userId}` });
      const page = await list(x);
      assert.deepEqual({ ...page, items: page.items.map((i) => i._id) }, { total_entries: 3, skip: 0, limit: 100, items: [pub._id, g2._id, g1._id] });
      assert.deepEqual((await list(x, { sort_asc: 'created_at', limit: '2', skip: '1' })).items.map((i) => i._id), [g2._id, pub._id]);
      assert.deepEqual((await list(x, { sort_desc: 'name' })).items.map((i) => i.name), ['Lobby', 'Beta', 'Alpha']);
      assert.deepEqual((await list(x, { type: { in: '1,3' } })).items.map((i) => i._id), [pub._id]);
      assert.deepEqual((await list(x, { name: { ctn: 'alp' } })).items.map((i) => i._id), [g1._id]);
      assert.deepEqual((await list(x, { occupants_ids: { all: `${x.userId},${z.userId}` } })).items.map((i) => i._id), [g2._id]);
      assert.deepEqual((await list(x, { _id: g1._id })).items.map((i) => i._id), [g1._id]);
      assert.deepEqual((await list(x, { updated_at: { gt: String(Date.UTC(2024, 0, 1, 12, 0, 0) / 1000) } })).total_entries, 2);
      assert.deepEqual(await f.chat.listDialogs(x, { count: '1', type: 2 }), { items: { count: 2 } });
      assert.equal((await list(x, { limit: '500' })).limit, 100);
      assert.equal((await list(stranger)).total_entries, 0);
      await rejectsWith(f.chat.listDialogs(x, { type: 'two' }), 'badRequest', 'Incorrect format for parameter "type".');
    });

    it("filters on custom data and reports the caller's own unread count", async () => {
      const [x, y] = await f.newApp(2);
      const tagged = await f.chat.createDialog(x, { type: 2, name: 'n', occupants_ids: `${y.userId}`, data: { class_name: 'Meta', level: 3 } });
      await f.chat.createDialog(x, { type: 2, name: 'n', occupants_ids: `${y.userId}`, data: { class_name: 'Meta', level: 1 } });
      assert.deepEqual((await list(y, { data: { class_name: 'Meta', level: { gte: '2' } } })).items.map((i) => i._id), [tagged._id]);
      await f.chat.createMessage(x, { chat_dialog_id: tagged._id, message: 'hi' });
      const seenByY = (await list(y, { _id: tagged._id })).items[0];
      const seenByX = (await list(x, { _id: tagged._id })).items[0];
      assert.deepEqual([seenByY.unread_messages_count, seenByX.unread_messages_count], [1, 0]);
      assert.equal(seenByY.last_message, 'hi');
      assert.equal((await f.chat.getDialog(y, tagged._id)).unread_messages_count, 1);
    });

    it('gets a dialog by id: 404 for bad or unknown ids, 403 for dialogs of others, public ones for all', async () => {
      const dialog = await group(a, [b]);
      assert.equal((await f.chat.getDialog(b, dialog._id))._id, dialog._id);
      assert.equal((await f.chat.getDialog(a, dialog._id.toUpperCase()))._id, dialog._id);
      await rejectsWith(f.chat.getDialog(a, 'nope'), 'notFound', "The resource wasn't found");
      await rejectsWith(f.chat.getDialog(a, '0123456789abcdef01234567'), 'notFound');
      await rejectsWith(f.chat.getDialog(c, dialog._id), 'forbidden', "You don't have appropriate permissions to perform this operation");
      await rejectsWith(f.chat.getDialog(stranger, dialog._id), 'notFound'); // other applications see nothing
      const pub = await f.chat.createDialog(a, { type: 1, name: 'p' });
      assert.equal((await f.chat.getDialog(d, pub._id))._id, pub._id);
    });
  });

  describe('update', () => {
    it('lets any group occupant rename, change photo and data, and add users', async () => {
      const dialog = await group(a, [b], { data: { class_name: 'C', keep: 'yes' } });
      f.tick(5);
      const { dialog: updated, addedUserIds, removedUserIds } = await f.chat.updateDialog(b, dialog._id, {
        name: 'Renamed', photo: 42, data: { topic: 'new' }, push_all: { occupants_ids: [c.userId, a.userId] },
      });
      assert.deepEqual([updated.name, updated.photo, updated.data], ['Renamed', '42', { class_name: 'C', keep: 'yes', topic: 'new' }]);
      assert.deepEqual(updated.occupants_ids, sorted(a.userId, b.userId, c.userId));
      assert.deepEqual([addedUserIds, removedUserIds], [[c.userId], []]);
      assert.equal(updated.updated_at, `${new Date(f.clock.now).toISOString().slice(0, 19)}Z`);
      assert.notEqual(updated.updated_at, updated.created_at);
      const cleared = await f.chat.updateDialog(a, dialog._id, { photo: '', data: '' });
      assert.deepEqual([cleared.dialog.photo, cleared.dialog.data], [null, null]);
    });

    it('lets occupants remove only themselves; owners and admins remove anyone', async () => {
      const dialog = await group(a, [b, c, d], { admin_ids: `${d.userId}` });
      const before = f.events.length;
      await rejectsWith(f.chat.updateDialog(b, dialog._id, { pull_all: { occupants_ids: [c.userId] } }), 'forbidden');
      await rejectsWith(f.chat.updateDialog(d, dialog._id, { pull_all: { occupants_ids: [a.userId] } }), 'forbidden', undefined, undefined);
      const left = await f.chat.updateDialog(b, dialog._id, { pull_all: { occupants_ids: `${b.userId}` } });
      assert.deepEqual(left.removedUserIds, [b.userId]);
      const kicked = await f.chat.updateDialog(d, dialog._id, { pull_all: { occupants_ids: [c.userId] } });
      assert.deepEqual(kicked.dialog.occupants_ids, sorted(a.userId, d.userId));
      const events = f.events.slice(before);
      assert.deepEqual(events.map((e) => e.name === 'occupantsRemoved' && [e.payload.userIds, e.payload.actor]),
        [[[b.userId], b.userId], [[c.userId], d.userId]]);
      await rejectsWith(f.chat.updateDialog(b, dialog._id, { name: 'back?' }), 'forbidden', undefined, undefined);
      await rejectsWith(f.chat.updateDialog(c, dialog._id, { push_all: { occupants_ids: [c.userId] } }), 'forbidden');
      await rejectsWith(f.chat.updateDialog(a, dialog._id, { push_all: { occupants_ids: [stranger.userId] } }), 'occupantsNotFound');
      const removedAdmin = await f.chat.updateDialog(a, dialog._id, { pull_all: { occupants_ids: [d.userId] } });
      assert.deepEqual(removedAdmin.dialog.admin_ids, [], 'a removed occupant is no admin');
    });

    it('lets only the owner change admins and the join flag', async () => {
      const dialog = await group(a, [b, c]);
      await rejectsWith(f.chat.updateDialog(b, dialog._id, { admin_ids: `${b.userId}` }), 'adminsForbidden',
        'You don\'t have appropriate permissions to modify or delete "admin_ids".');
      await rejectsWith(f.chat.updateDialog(b, dialog._id, { push_all: { admin_ids: [b.userId] } }), 'adminsForbidden');
      await rejectsWith(f.chat.updateDialog(b, dialog._id, { is_join_required: 0 }), 'forbidden');
      const set = await f.chat.updateDialog(a, dialog._id, { admin_ids: [b.userId], is_joinable: '0' });
      assert.deepEqual([set.dialog.admin_ids, set.dialog.is_join_required, set.dialog.is_joinable], [[b.userId], 0, 0]);
      const pushed = await f.chat.updateDialog(a, dialog._id, { push_all: { admin_ids: [c.userId] }, pull_all: { admin_ids: [b.userId] } });
      assert.deepEqual(pushed.dialog.admin_ids, [c.userId]);
      await rejectsWith(f.chat.updateDialog(a, dialog._id, { admin_ids: [d.userId] }), 'adminsNotFound');
      await rejectsWith(f.chat.updateDialog(a, dialog._id, { admin_ids: 'x' }), 'badRequest', 'Incorrect format for parameter "admin_ids".');
      assert.equal((await f.chat.updateDialog(b, dialog._id, { is_join_required: 0 })).dialog.is_join_required, 0, 'no change is no violation');
    });

    it('lets only the owner and admins update a public dialog', async () => {
      const pub = await f.chat.createDialog(a, { type: 1, name: 'Lobby', admin_ids: `${c.userId}` });
      await rejectsWith(f.chat.updateDialog(b, pub._id, { name: 'Mine' }), 'forbidden');
      assert.equal((await f.chat.updateDialog(c, pub._id, { name: 'By admin' })).dialog.name, 'By admin');
      const updated = await f.chat.updateDialog(a, pub._id, { name: 'Hall', push_all: { occupants_ids: [b.userId] } });
      assert.deepEqual([updated.dialog.name, updated.dialog.occupants_ids], ['Hall', []]);
      await rejectsWith(f.chat.updateDialog(a, pub._id, { is_joinable: 0 }), 'invalidField', undefined, 'is_join_required');
    });

    it('keeps private dialogs to their pair: no renaming, no occupant changes', async () => {
      const [x, y, z] = await f.newApp(3);
      const dialog = await f.chat.createDialog(x, { type: 3, occupants_ids: `${y.userId}` });
      const updated = await f.chat.updateDialog(y, dialog._id, { name: 'ignored', photo: 'p.png', data: { class_name: 'D' } });
      assert.deepEqual([updated.dialog.name, updated.dialog.photo, updated.dialog.data], [null, 'p.png', { class_name: 'D' }]);
      await rejectsWith(f.chat.updateDialog(x, dialog._id, { push_all: { occupants_ids: [z.userId] } }), 'tooManyOccupants');
      await rejectsWith(f.chat.updateDialog(x, dialog._id, { pull_all: { occupants_ids: [y.userId] } }), 'forbidden');
      await rejectsWith(f.chat.updateDialog(z, dialog._id, { photo: 'x' }), 'forbidden');
      await rejectsWith(f.chat.updateDialog(x, dialog._id, { is_join_required: 1 }), 'invalidField');
      assert.deepEqual((await f.chat.updateDialog(x, dialog._id, { admin_ids: [y.userId] })).dialog.admin_ids, []);
    });

    it('deletes a group when its last occupant leaves', async () => {
      const [x] = await f.newApp(1);
      const dialog = await f.chat.createDialog(x, { type: 2, name: 'solo', occupants_ids: `${x.userId}` });
      const result = await f.chat.updateDialog(x, dialog._id, { pull_all: { occupants_ids: [x.userId] } });
      assert.equal(result.deleted, true);
      assert.deepEqual(f.events.at(-1)?.name, 'dialogDeleted');
      await rejectsWith(f.chat.getDialog(x, dialog._id), 'notFound');
    });

    it('refuses updates to unknown dialogs and dialogs of others', async () => {
      const dialog = await group(a, [b]);
      await rejectsWith(f.chat.updateDialog(c, dialog._id, { name: 'x' }), 'forbidden');
      await rejectsWith(f.chat.updateDialog(a, '0123456789abcdef01234567', { name: 'x' }), 'notFound');
      await rejectsWith(f.chat.updateDialog(a, dialog._id, { name: '' }), 'invalidField', "can't be blank", 'name');
    });
  });

  describe('delete', () => {
    it('deletes for everyone only when the owner forces it, and reports every id', async () => {
      const dialog = await group(a, [b]);
      const other = await group(b, [a]);
      const before = f.events.length;
      assert.deepEqual(await f.chat.deleteDialogs(b, [dialog._id, 'notExistentId'], true), {
        SuccessfullyDeleted: { ids: [] }, WrongPermissions: { ids: [dialog._id] }, NotFound: { ids: ['notExistentId'] },
      });
      assert.deepEqual(await f.chat.deleteDialogs(c, [other._id], false), {
        SuccessfullyDeleted: { ids: [] }, WrongPermissions: { ids: [other._id] }, NotFound: { ids: [] },
      });
      assert.deepEqual(await f.chat.deleteDialogs(a, [dialog._id, other._id], true), {
        SuccessfullyDeleted: { ids: [dialog._id] }, WrongPermissions: { ids: [other._id] }, NotFound: { ids: [] },
      });
      assert.deepEqual(f.events.slice(before).map((e) => e.name), ['dialogDeleted']);
      await rejectsWith(f.chat.getDialog(b, dialog._id), 'notFound');
      assert.deepEqual((await f.chat.deleteDialogs(a, [dialog._id], true)).NotFound.ids, [dialog._id]);
    });

    it('deletes for me: hidden for the caller, still there for the others, reappearing with a new message', async () => {
      const dialog = await group(a, [b, c]);
      await f.chat.createMessage(a, { chat_dialog_id: dialog._id, message: 'one' });
      assert.deepEqual((await f.chat.deleteDialogs(b, [dialog._id], false)).SuccessfullyDeleted.ids, [dialog._id]);
      assert.deepEqual((await f.chat.deleteDialogs(b, [dialog._id], false)).NotFound.ids, [dialog._id], 'gone for b');
      assert.ok(!(await list(b)).items.some((i) => i._id === dialog._id));
      assert.ok((await list(c)).items.some((i) => i._id === dialog._id));
      assert.equal((await f.chat.unreadCount(b)).total, 0);
      await f.chat.createMessage(a, { chat_dialog_id: dialog._id, message: 'two' });
      const back = (await list(b)).items.find((i) => i._id === dialog._id);
      assert.equal(back?.unread_messages_count, 1);
      const history = (await f.chat.listMessages(b, { chat_dialog_id: dialog._id, mark_as_read: 0 })) as { items: { message: string }[] };
      assert.deepEqual(history.items.map((m) => m.message), ['two']);
    });

    it('lets anyone delete a public dialog for themselves only', async () => {
      const pub = await f.chat.createDialog(a, { type: 1, name: 'p' });
      assert.deepEqual((await f.chat.deleteDialogs(d, [pub._id], false)).SuccessfullyDeleted.ids, [pub._id]);
      assert.ok(!(await list(d)).items.some((i) => i._id === pub._id));
      assert.ok((await list(b)).items.some((i) => i._id === pub._id));
    });
  });

  describe('notification settings', () => {
    it('are on by default and set per occupant of group and private dialogs', async () => {
      const dialog = await group(a, [b]);
      assert.deepEqual(await f.chat.getNotifications(b, dialog._id), { notifications: { enabled: 1 } });
      assert.deepEqual(await f.chat.setNotifications(b, dialog._id, { enabled: '0' }), { notifications: { enabled: 0 } });
      assert.deepEqual(await f.chat.getNotifications(b, dialog._id), { notifications: { enabled: 0 } });
      assert.deepEqual(await f.chat.getNotifications(a, dialog._id), { notifications: { enabled: 1 } });
      await rejectsWith(f.chat.setNotifications(b, dialog._id, { enabled: 'maybe' }), 'invalidField', 'is invalid', 'enabled');
      await rejectsWith(f.chat.getNotifications(c, dialog._id), 'forbidden');
      const pub = await f.chat.createDialog(a, { type: 1, name: 'p' });
      await rejectsWith(f.chat.getNotifications(a, pub._id), 'forbidden');
      await rejectsWith(f.chat.getNotifications(a, 'bad'), 'notFound');
    });
  });
});
