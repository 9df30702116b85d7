// Group chat across three nodes sharing one store and one Redis (PARLEY_TEST_REDIS_URL): occupants
// on different nodes see each other join and leave, get every groupchat message once and in one
// order, are kicked and destroyed by REST calls that land on another node, and leave the rooms with
// a node that dies.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer, TestUser } from './support/server.js';
import { useCluster, withoutRedis } from './support/cluster.js';
import { ClientPool, errorCondition, xml, type Conn, type XEl } from './support/clients.js';
import { restSession, restUrl } from './support/rest.js';
import { sleep } from './support/wait.js';
import type { RedisCluster } from '../src/cluster/redis.js';
import type { RoomDirectory } from '../src/cluster/rooms.js';

const TTL = 2; // seconds
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

const isGroupchat = (el: XEl): boolean => el.name === 'message' && el.attrs.type === 'groupchat' && el.getChild('body') !== undefined;
const bodyIs = (text: string) => (el: XEl) => isGroupchat(el) && el.getChildText('body') === text;
const occupantPresence = (room: string, userId: number, type?: string) => (el: XEl): boolean =>
  el.name === 'presence' && el.attrs.from === `${room}/${userId}` && el.attrs.type === type;
const statusCodes = (el: XEl): string[] => (el.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => s.attrs.code ?? '');

/** Counts what a node's room directory is asked to publish. */
function spy(directory: RoomDirectory): { calls: number } {
  const counter = { calls: 0 };
  for (const name of ['publish', 'publishToAccounts'] as const) {
    const original = directory[name].bind(directory) as (...args: unknown[]) => Promise<unknown>;
    (directory as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      counter.calls++;
      return original(...args);
    };
  }
  return counter;
}

let joins = 0;

// Room events go through Redis whichever the transport: once, with links (their presences to contacts take them).
describe('group chat across cluster nodes', { skip: withoutRedis }, () => {
  const pools: ClientPool[] = [];
  const cluster = useCluster(['m1', 'm2', 'm3'], 'links', { cluster_ttl: TTL }, { beforeStop: () => Promise.all(pools.map((p) => p.stopAll())).then(() => {}) });
  const { nodes, stopped, prefix } = cluster;
  before(() => {
    for (const node of nodes) pools.push(new ClientPool(node));
  });

  const user = (): Promise<TestUser> => nodes[0]!.createUser();
  const on = (node: number, u: TestUser, opts: Parameters<ClientPool['connect']>[1] = {}): Promise<Conn> => pools[node]!.connect(u, opts);
  const group = async (owner: TestUser, others: TestUser[], extra: Record<string, unknown> = {}) =>
    nodes[0]!.server.chat.createDialog({ appId: owner.appId, userId: owner.id }, { type: 2, name: 'room', occupants_ids: others.map((u) => u.id), ...extra });

  /** Joins; returns the presences received before the answer (the occupant list) and the answer. */
  const join = async (conn: Conn, room: string): Promise<{ before: XEl[]; answer: XEl }> => {
    const id = `${++joins}:join`;
    await conn.send(xml('presence', { to: `${room}/${conn.user.id}`, id }, xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' }))));
    const answer = await conn.take((el) => el.name === 'presence' && el.attrs.id === id, 3000, `join answer ${id} for ${conn.user.id}`);
    const before = conn.inbox.items.filter((el) => el.name === 'presence' && el.attrs.from?.startsWith(`${room}/`));
    for (const el of before) conn.inbox.items.splice(conn.inbox.items.indexOf(el), 1);
    return { before, answer };
  };
  const leave = async (conn: Conn, room: string): Promise<void> => {
    const id = `${++joins}:leave`;
    await conn.send(xml('presence', { to: `${room}/${conn.user.id}`, type: 'unavailable', id }));
    await conn.take((el) => el.attrs.id === id, 3000, 'leave answer');
  };
  const say = (conn: Conn, room: string, body: string, save = false) =>
    conn.send(xml('message', { type: 'groupchat', to: room }, xml('body', {}, body),
      save ? xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1')) : null));
  const roomEntries = async (room: string): Promise<string[]> => Object.keys(await cluster.redis.hgetall(`${prefix}room:${room}`)).sort();
  const rest = async (node: TestServer, u: TestUser, method: string, path: string, body?: unknown): Promise<number> => {
    const token = await restSession(node, { login: u.login, password: u.password });
    const res = await fetch(restUrl(node, path), {
      method,
      headers: { 'QB-Token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    await res.arrayBuffer();
    return res.status;
  };

  it('a joiner sees the occupants of every node, and every node sees the joiner', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const room = (await group(a, [b, c])).xmpp_room_jid!;
    const alice = await on(0, a);
    const bob = await on(1, b);
    const carol = await on(2, c);
    const first = await join(alice, room);
    assert.deepEqual(first.before, [], 'an empty room');
    assert.deepEqual(statusCodes(first.answer), ['110']);
    const second = await join(bob, room);
    assert.deepEqual(second.before.map((p) => p.attrs.from), [`${room}/${a.id}`], 'bob (m2) gets alice (m1) before his self-presence');
    assert.equal(second.before[0]!.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.jid, alice.jid, 'with her real JID');
    assert.ok(second.before[0]!.attrs.id, 'MUC presences carry an id');
    const aliceSeesBob = await alice.take(occupantPresence(room, b.id), 3000, 'alice sees bob join');
    assert.equal(aliceSeesBob.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.jid, bob.jid);
    assert.deepEqual(statusCodes(aliceSeesBob), [], 'no 110 for somebody else');
    const third = await join(carol, room);
    assert.deepEqual(third.before.map((p) => p.attrs.from).sort(), [`${room}/${a.id}`, `${room}/${b.id}`].sort());
    await alice.take(occupantPresence(room, c.id), 3000, 'alice (m1) sees carol (m3) join');
    await bob.take(occupantPresence(room, c.id), 3000, 'bob (m2) sees carol (m3) join');
    assert.deepEqual(await roomEntries(room), [alice.jid, bob.jid, carol.jid].sort());

    // Each node lists every occupant (disco#items on the room), whichever node asks.
    const items = await bob.iq(xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_ITEMS })));
    assert.deepEqual(items.getChild('query')!.getChildren('item').map((i) => i.attrs.name).sort(), [a.id, b.id, c.id].map(String).sort());

    // A presence update crosses too (no 110 for the others).
    await carol.send(xml('presence', { to: `${room}/${c.id}` }, xml('show', {}, 'away')));
    const update = await alice.take((el) => occupantPresence(room, c.id)(el) && el.getChildText('show') === 'away', 3000, 'carol\'s update on m1');
    assert.deepEqual(statusCodes(update), []);
    await bob.take((el) => occupantPresence(room, c.id)(el) && el.getChildText('show') === 'away', 3000, 'carol\'s update on m2');
    assert.deepEqual(statusCodes(await carol.take((el) => occupantPresence(room, c.id)(el) && el.getChildText('show') === 'away')), ['110']);
    for (const conn of [alice, bob, carol]) {
      assert.deepEqual((await conn.inbox.drain((el) => el.name === 'presence' && el.attrs.from?.startsWith(room) === true, 150)).map(String), [], 'no duplicate room presence');
    }
    await Promise.all([alice.stop(), bob.stop(), carol.stop()]);
  });

  it('groupchat from every node reaches every occupant once, in per-sender order and in one order for all; stored once', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const dialog = await group(a, [b, c]);
    const room = dialog.xmpp_room_jid!;
    const conns = [await on(0, a), await on(1, b), await on(2, c)];
    for (const conn of conns) await join(conn, room);
    await sleep(100); // the last join reached the other nodes

    const PER_SENDER = 20;
    // All three send at once, each a burst.
    await Promise.all(conns.map(async (conn, n) => {
      for (let i = 0; i < PER_SENDER; i++) await say(conn, room, `s${n}-${i}`);
    }));
    const received: string[][] = [];
    for (const conn of conns) {
      const bodies: string[] = [];
      for (let i = 0; i < PER_SENDER * conns.length; i++) {
        const got = await conn.take(isGroupchat, 5000, `message ${i} for ${conn.user.id}`);
        assert.equal(got.attrs.to, conn.jid);
        const sender = Number(/^s(\d)-/.exec(got.getChildText('body') ?? '')?.[1]);
        assert.equal(got.attrs.from, `${room}/${conns[sender]!.user.id}`, 'from the sender\'s nick');
        assert.equal(got.getChild('extraParams')?.getChildText('dialog_id'), dialog._id);
        bodies.push(got.getChildText('body') ?? '');
      }
      assert.deepEqual(await conn.inbox.drain(isGroupchat, 200), [], 'nothing twice');
      for (let n = 0; n < conns.length; n++) {
        assert.deepEqual(bodies.filter((b) => b.startsWith(`s${n}-`)), Array.from({ length: PER_SENDER }, (_, i) => `s${n}-${i}`), `sender ${n}'s order`);
      }
      received.push(bodies);
    }
    assert.deepEqual(received[1], received[0], 'm2 in the order m1 had');
    assert.deepEqual(received[2], received[0], 'm3 in the order m1 had');

    // A stored message is stored once, by the sending node, with the id every occupant got.
    await say(conns[2]!, room, 'kept', true);
    const ids = await Promise.all(conns.map(async (conn) => (await conn.take(bodyIs('kept'))).attrs.id));
    assert.match(ids[0] ?? '', /^[0-9a-f]{24}$/);
    assert.deepEqual(new Set(ids).size, 1);
    const stored = await nodes[0]!.store.chat.listMessages({ dialogId: dialog._id, viewerId: a.id, filters: [], limit: 100, skip: 0 });
    assert.deepEqual(stored.map((m) => [m.id, m.body]), [[ids[0], 'kept']]);
    await Promise.all(conns.map((conn) => conn.stop()));
  });

  it('a REST send_to_chat message made on a node without occupants reaches the occupants of the others', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const dialog = await group(a, [b, c]);
    const room = dialog.xmpp_room_jid!;
    const bob = await on(1, b);
    const carol = await on(2, c);
    await join(bob, room);
    await join(carol, room);
    await bob.take(occupantPresence(room, c.id));
    assert.equal(await rest(nodes[0]!, a, 'POST', '/chat/Message.json', { chat_dialog_id: dialog._id, message: 'from REST on m1', send_to_chat: 1 }), 201);
    for (const conn of [bob, carol]) assert.equal((await conn.take(bodyIs('from REST on m1'))).attrs.from, `${room}/${a.id}`);
    for (const conn of [bob, carol]) assert.deepEqual(await conn.inbox.drain(isGroupchat, 150), [], 'once');
    await Promise.all([bob.stop(), carol.stop()]);
  });

  it('leaving crosses nodes: the others see the unavailable presence, the one who left gets nothing more', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const room = (await group(a, [b, c])).xmpp_room_jid!;
    const alice = await on(0, a);
    const bob = await on(1, b);
    const carol = await on(2, c);
    for (const conn of [alice, bob, carol]) await join(conn, room);
    await alice.take(occupantPresence(room, c.id));
    await leave(bob, room);
    for (const conn of [alice, carol]) {
      const seen = await conn.take(occupantPresence(room, b.id, 'unavailable'), 3000, 'bob\'s leave');
      assert.equal(seen.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.jid, bob.jid);
    }
    await say(alice, room, 'after bob left');
    await carol.take(bodyIs('after bob left'));
    await alice.take(bodyIs('after bob left'));
    assert.deepEqual(await bob.inbox.drain(isGroupchat, 200), [], 'bob left: no reflection to him');
    assert.deepEqual(await roomEntries(room), [alice.jid, carol.jid].sort());
    assert.deepEqual(await cluster.redis.hgetall(`${prefix}roomnodes:${room}`), { m1: '1', m3: '1' }, 'm2 holds nobody of the room');
    assert.equal(await cluster.redis.sismember(`${prefix}rooms:m2`, room), 0);
    // A posting from outside the room is refused, on any node.
    await bob.send(xml('message', { type: 'groupchat', to: room, id: 'out1' }, xml('body', {}, 'let me in')));
    assert.equal(errorCondition(await bob.take((el) => el.attrs.id === 'out1')), 'forbidden');
    // Disconnecting leaves too.
    await carol.stop();
    await alice.take(occupantPresence(room, c.id, 'unavailable'), 3000, 'carol disconnected on m3');
    assert.deepEqual(await roomEntries(room), [alice.jid]);
    assert.deepEqual(await cluster.redis.hgetall(`${prefix}roomnodes:${room}`), { m1: '1' });
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('an occupant joined from two nodes is one occupant: seen once, gone when its last resource leaves', async () => {
    const [a, b] = [await user(), await user()];
    const room = (await group(a, [b])).xmpp_room_jid!;
    const alice = await on(0, a);
    const bobPhone = await on(1, b, { resource: 'phone' });
    const bobWeb = await on(2, b, { resource: 'web' });
    await join(alice, room);
    await join(bobPhone, room);
    await alice.take(occupantPresence(room, b.id));
    const web = await join(bobWeb, room);
    assert.deepEqual(web.before.map((p) => p.attrs.from), [`${room}/${a.id}`], 'his own nick is not listed as somebody else');
    await say(alice, room, 'to both of bob');
    await bobPhone.take(bodyIs('to both of bob'));
    await bobWeb.take(bodyIs('to both of bob'));
    await leave(bobPhone, room);
    assert.deepEqual(await alice.inbox.drain((el) => el.name === 'presence', 200), [], 'bob is still in the room (web): no presence');
    await leave(bobWeb, room);
    await alice.take(occupantPresence(room, b.id, 'unavailable'), 3000, 'bob\'s last resource left');
    await Promise.all([alice.stop(), bobPhone.stop(), bobWeb.stop()]);
  });

  it('a REST pull_all on one node kicks the occupant on another (301), and the rest see it leave', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const dialog = await group(a, [b, c]);
    const room = dialog.xmpp_room_jid!;
    const bob = await on(1, b);
    const carol = await on(2, c);
    await join(bob, room);
    await join(carol, room);
    await bob.take(occupantPresence(room, c.id));
    // The owner kicks carol (on m3) through m1, where nobody of the room sits.
    assert.equal(await rest(nodes[0]!, a, 'PUT', `/chat/Dialog/${dialog._id}.json`, { pull_all: { occupants_ids: [c.id] } }), 200);
    const kick = await carol.take(occupantPresence(room, c.id, 'unavailable'), 3000, 'carol is kicked');
    assert.deepEqual(statusCodes(kick), ['301', '110']);
    assert.equal(kick.getChild('x', NS_MUC_USER)?.getChild('item')?.getChild('actor')?.attrs.jid, a.jid);
    const seen = await bob.take(occupantPresence(room, c.id, 'unavailable'), 3000, 'bob sees carol go');
    assert.deepEqual(statusCodes(seen), [], 'a plain leave for the others');
    assert.deepEqual(await bob.inbox.drain((el) => el.name === 'presence', 200), [], 'once');
    for (let i = 0; i < 50 && (await roomEntries(room)).length > 1; i++) await sleep(20);
    assert.deepEqual(await roomEntries(room), [bob.jid]);
    await carol.send(xml('message', { type: 'groupchat', to: room, id: 'k1' }, xml('body', {}, 'still here?')));
    assert.equal(errorCondition(await carol.take((el) => el.attrs.id === 'k1')), 'forbidden');
    await say(bob, room, 'carol is out');
    await bob.take(bodyIs('carol is out'));
    assert.deepEqual(await carol.inbox.drain(isGroupchat, 200), []);
    await Promise.all([bob.stop(), carol.stop()]);
  });

  it('deleting the dialog on one node destroys the room on every node', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const dialog = await group(a, [b, c]);
    const room = dialog.xmpp_room_jid!;
    const bob = await on(1, b);
    const carol = await on(2, c);
    await join(bob, room);
    await join(carol, room);
    await bob.take(occupantPresence(room, c.id));
    assert.equal(await rest(nodes[0]!, a, 'DELETE', `/chat/Dialog/${dialog._id}.json?force=1`), 200);
    for (const conn of [bob, carol]) {
      const destroyed = await conn.take(occupantPresence(room, conn.user.id, 'unavailable'), 3000, 'the destroy presence');
      assert.ok(destroyed.getChild('x', NS_MUC_USER)?.getChild('destroy'));
      assert.deepEqual(await conn.inbox.drain((el) => el.name === 'presence', 200), [], 'nothing else: no SDK callback fires');
    }
    for (let i = 0; i < 50 && (await roomEntries(room)).length > 0; i++) await sleep(20);
    assert.deepEqual(await roomEntries(room), []);
    await Promise.all([bob.stop(), carol.stop()]);
  });

  it('is_join_required=0: a message reaches the online occupants on every node', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const room = (await group(a, [b, c], { is_join_required: 0 })).xmpp_room_jid!;
    const alice = await on(0, a);
    const bob = await on(1, b);
    const carol = await on(2, c);
    await say(bob, room, 'no join needed');
    for (const conn of [alice, bob, carol]) {
      assert.equal((await conn.take(bodyIs('no join needed'))).attrs.from, `${room}/${b.id}`);
      assert.deepEqual(await conn.inbox.drain(isGroupchat, 100), [], 'once');
    }
    await Promise.all([alice.stop(), bob.stop(), carol.stop()]);
  });

  it('keeps the local fast path: a room whose occupants are all on one node sends its messages without Redis', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const room = (await group(a, [b, c])).xmpp_room_jid!;
    const alice = await on(1, a);
    const bob = await on(1, b);
    await join(alice, room);
    await join(bob, room);
    const counter = spy(nodes[1]!.server.cluster.rooms);
    for (let i = 0; i < 5; i++) await say(alice, room, `local ${i}`);
    for (let i = 0; i < 5; i++) assert.equal((await bob.take(isGroupchat)).getChildText('body'), `local ${i}`);
    assert.equal(counter.calls, 0);
    // Somebody on another node joins: now the messages go through the cluster.
    const carol = await on(0, c);
    await join(carol, room);
    await alice.take(occupantPresence(room, carol.user.id));
    await say(alice, room, 'to two nodes');
    for (const conn of [alice, bob, carol]) await conn.take(bodyIs('to two nodes'));
    assert.equal(counter.calls, 1);
    await Promise.all([alice.stop(), bob.stop(), carol.stop()]);
  });

  it('a node taken for dead puts its occupants back into their rooms once it is back', async () => {
    const [a, b] = [await user(), await user()];
    const room = (await group(a, [b])).xmpp_room_jid!;
    const alice = await on(0, a);
    const bob = await on(1, b);
    await join(alice, room);
    await join(bob, room);
    await alice.take(occupantPresence(room, b.id));
    // As if m2's heartbeat had stalled and another node had reaped it.
    await cluster.redis.multi().zrem(`${prefix}nodes`, 'm2').hdel(`${prefix}room:${room}`, bob.jid).hdel(`${prefix}roomnodes:${room}`, 'm2').srem(`${prefix}rooms:m2`, room).exec();
    const since = Date.now();
    while (!(await roomEntries(room)).includes(bob.jid)) {
      assert.ok(Date.now() - since < 4000, 'joined again within a few heartbeats');
      await sleep(50);
    }
    assert.equal(await cluster.redis.hget(`${prefix}roomnodes:${room}`, 'm2'), '1');
    await say(alice, room, 'are you back?');
    await bob.take(bodyIs('are you back?'), 3000, 'a message from m1 reaches bob on m2 again');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('a node that dies: its occupants leave the rooms on the other nodes within the TTL', async () => {
    const [a, b, c, d] = [await user(), await user(), await user(), await user()];
    const room = (await group(a, [b, c, d])).xmpp_room_jid!;
    const alice = await on(0, a);
    const bob = await on(1, b);
    const carol = await on(2, c);
    for (const conn of [alice, bob, carol]) await join(conn, room);
    await alice.take(occupantPresence(room, c.id));
    await bob.take(occupantPresence(room, c.id));

    const m3 = nodes[2]!;
    const died = Date.now();
    (m3.server.cluster as RedisCluster).crash();
    stopped.add(m3);
    await pools[2]!.stopAll();
    await m3.stop();
    assert.ok((await roomEntries(room)).includes(carol.jid), 'nobody cleaned up on the way out');

    for (const conn of [alice, bob]) {
      await conn.take(occupantPresence(room, c.id, 'unavailable'), TTL * 1000 + 2000, 'carol leaves with her node');
      assert.ok(Date.now() - died < TTL * 1000 + 2000);
    }
    assert.deepEqual(await roomEntries(room), [alice.jid, bob.jid].sort());
    const items = await alice.iq(xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_ITEMS })));
    assert.deepEqual(items.getChild('query')!.getChildren('item').map((i) => i.attrs.name).sort(), [a.id, b.id].map(String).sort());
    const dave = await on(1, d);
    const joined = await join(dave, room);
    assert.deepEqual(joined.before.map((p) => p.attrs.from).sort(), [`${room}/${a.id}`, `${room}/${b.id}`].sort(), 'carol is not listed');
    await say(alice, room, 'after m3 died');
    for (const conn of [alice, bob, dave]) await conn.take(bodyIs('after m3 died'));
    assert.deepEqual(await alice.inbox.drain((el) => el.name === 'message' && el.attrs.type === 'error', 100), [], 'no error');
  });
});
