// The official QuickBlox JS SDK against Parley's chat REST API: dialogs of all three types,
// messages, unread counts, read/delivered updates and deletes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { freePort } from './support/server.js';
import { call, sdkSignUp, type SdkError } from './support/quickblox.js';

const httpsPort = await freePort();

describe('QuickBlox JS SDK: chat REST', () => {
  const fx = useServer({ overrides: { https_port: httpsPort } });
  const byId = (a: number, b: number) => a - b;

  it('creates private, group and public dialogs and lists them', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    const priv = await call<any>((cb) => ann.qb.chat.dialog.create({ type: 3, occupants_ids: [bob.id] }, cb));
    assert.equal(priv.type, 3);
    assert.deepEqual(priv.occupants_ids, [ann.id, bob.id].sort(byId));
    const reused = await call<any>((cb) => bob.qb.chat.dialog.create({ type: 3, occupants_ids: [ann.id] }, cb));
    assert.equal(reused._id, priv._id);
    const group = await call<any>((cb) => ann.qb.chat.dialog.create({ type: 2, name: 'SDK group', occupants_ids: [bob.id], data: { class_name: 'Team', color: 'blue' } }, cb));
    assert.equal(group.xmpp_room_jid, `${fx.t.app.id}_${group._id}@muc.${fx.t.domain}`);
    assert.deepEqual(group.data, { class_name: 'Team', color: 'blue' });
    const pub = await call<any>((cb) => ann.qb.chat.dialog.create({ type: 1, name: 'SDK public' }, cb));
    assert.equal(pub.type, 1);
    const list = await call<any>((cb) => bob.qb.chat.dialog.list({ sort_desc: 'updated_at', limit: 50 }, cb));
    const seen = list.items.map((d: any) => d._id);
    for (const d of [priv, group, pub]) assert.ok(seen.includes(d._id), `bob sees dialog type ${d.type}`);
    assert.equal(list.skip, 0);
    assert.equal(list.limit, 50);
    const groups = await call<any>((cb) => bob.qb.chat.dialog.list({ type: { in: [2] } }, cb));
    assert.ok(groups.items.some((d: any) => d._id === group._id));
    assert.deepEqual(groups.items.map((d: any) => d.type), groups.items.map(() => 2));
    const renamed = await call<any>((cb) => bob.qb.chat.dialog.update(group._id, { name: 'Renamed by bob' }, cb));
    assert.equal(renamed.name, 'Renamed by bob');
    const refused: SdkError = await call((cb) => bob.qb.chat.dialog.update(pub._id, { name: 'not mine' }, cb)).then(() => assert.fail('only the owner updates a public dialog'), (e) => e);
    assert.equal(refused.code, 403);
  });

  it('creates, lists, marks, counts and deletes messages', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    const dialog = await call<any>((cb) => ann.qb.chat.dialog.create({ type: 2, name: 'Msgs', occupants_ids: [bob.id] }, cb));
    const sent: any[] = [];
    for (const text of ['first', 'second']) {
      sent.push(await call<any>((cb) => ann.qb.chat.message.create({ chat_dialog_id: dialog._id, message: text, attachments: [{ type: 'file', id: 'abc' }], priority: 'high' }, cb)));
    }
    assert.equal(sent[0].priority, 'high');
    assert.deepEqual(sent[0].attachments, [{ type: 'file', id: 'abc' }]);
    const unread = await call<any>((cb) => bob.qb.chat.message.unreadCount({ chat_dialog_ids: [dialog._id] }, cb));
    assert.equal(unread[dialog._id], 2);
    const peek = await call<any>((cb) => bob.qb.chat.message.list({ chat_dialog_id: dialog._id, sort_desc: 'date_sent', mark_as_read: 0 }, cb));
    assert.deepEqual(peek.items.map((m: any) => m.message).sort(), ['first', 'second']);
    await call((cb) => bob.qb.chat.message.update(sent[0]._id, { chat_dialog_id: dialog._id, read: 1 }, cb));
    const after = await call<any>((cb) => bob.qb.chat.message.unreadCount({ chat_dialog_ids: [dialog._id] }, cb));
    assert.equal(after[dialog._id], 1);
    await call((cb) => ann.qb.chat.message.update(sent[1]._id, { chat_dialog_id: dialog._id, message: 'second (edited)' }, cb));
    const edited = await call<any>((cb) => ann.qb.chat.message.list({ chat_dialog_id: dialog._id, _id: sent[1]._id }, cb));
    assert.equal(edited.items[0].message, 'second (edited)');
    await call((cb) => ann.qb.chat.message.delete([sent[0]._id], { force: 1 }, cb));
    const remaining = await call<any>((cb) => bob.qb.chat.message.list({ chat_dialog_id: dialog._id }, cb));
    assert.deepEqual(remaining.items.map((m: any) => m._id), [sent[1]._id]);
    await call((cb) => bob.qb.chat.dialog.delete([dialog._id], cb));
    const bobs = await call<any>((cb) => bob.qb.chat.dialog.list({}, cb));
    assert.ok(!bobs.items.some((d: any) => d._id === dialog._id), 'deleted for bob');
    const anns = await call<any>((cb) => ann.qb.chat.dialog.list({}, cb));
    assert.ok(anns.items.some((d: any) => d._id === dialog._id), 'still there for ann');
  });
});
