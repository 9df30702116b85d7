// Open rooms (XEP-0045) across two nodes sharing one store and one Redis (PARLEY_TEST_REDIS_URL),
// driven by the `stanza` library: occupants on different nodes see each other's presences,
// groupchat and private messages, nicks conflict across nodes, an owner on one node kicks an
// occupant on the other, settings changed on one node hold on the other, two nodes racing to
// create a name end in one room (one dialog), and the occupants of a node that dies leave.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as XMPP from 'stanza';
import type { TestServer, TestUser } from './support/server.js';
import { useCluster, withoutRedis } from './support/cluster.js';
import type { RedisCluster } from '../src/cluster/redis.js';
import { StanzaPool, type StanzaConn } from './support/stanza.js';
import { restSession, restUrl } from './support/rest.js';
import { Inbox, withTimeout } from './support/wait.js';

const TTL = 2; // seconds

const conditionOf = (err: any): string | undefined => err?.error?.condition;
const codes = (p: any): string[] => [...(p?.muc?.statusCodes ?? [])].sort();

function presences(conn: StanzaConn): Inbox<XMPP.Stanzas.ReceivedPresence> {
  const inbox = new Inbox<XMPP.Stanzas.ReceivedPresence>();
  conn.agent.on('presence', (p) => inbox.push(p));
  return inbox;
}

async function joinError(conn: StanzaConn, room: string, nick: string): Promise<string | undefined> {
  const err = await withTimeout(conn.agent.joinRoom(room, nick).then(() => null, (e) => e), 6000, `join ${nick}`);
  return conditionOf(err);
}

// Room events go through Redis whichever the transport: once, with links (private messages and presences take them).
describe('open rooms across cluster nodes', { skip: withoutRedis }, () => {
  const pools: StanzaPool[] = [];
  const cluster = useCluster(['o1', 'o2'], 'links', { cluster_ttl: TTL }, { beforeStop: async () => pools.forEach((pool) => pool.disconnectAll()) });
  const { nodes, stopped, prefix } = cluster;
  before(() => {
    for (const node of nodes) pools.push(new StanzaPool(() => node));
  });

  const user = (): Promise<TestUser> => nodes[0]!.createUser();
  const on = (node: number, u: TestUser): Promise<StanzaConn> => pools[node]!.connect(u);
  const muc = (): string => `muc.${nodes[0]!.domain}`;
  const occupantKeys = async (room: string): Promise<string[]> =>
    Object.keys(await cluster.redis.hgetall(`${prefix}room:open:${nodes[0]!.app.id}:${room}`)).sort();
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
  /** The group dialogs a user lists over REST with that name. */
  const dialogsNamed = async (u: TestUser, name: string): Promise<string[]> => {
    const token = await restSession(nodes[1]!, { login: u.login, password: u.password });
    const res = await fetch(restUrl(nodes[1]!, '/chat/Dialog.json?limit=100'), { headers: { 'QB-Token': token } });
    const body = (await res.json()) as { items: { _id: string; name: string }[] };
    return body.items.filter((d) => d.name === name).map((d) => d._id);
  };

  it('occupants on two nodes see each other, chat, and cannot take each other\'s nick', async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const a = await on(0, alice);
    const b = await on(1, bob);
    const c = await on(1, carol);
    const room = `hall@${muc()}`;
    const aPresences = presences(a);
    const bPresences = presences(b);
    const created = await withTimeout(a.agent.joinRoom(room, 'Alice'), 6000, 'alice creates');
    assert.ok(codes(created).includes('201'));

    const joined = await withTimeout(b.agent.joinRoom(room, 'Bob'), 6000, 'bob joins on the other node');
    assert.deepEqual(codes(joined), ['100', '110', '170'], 'an existing room: no 201');
    const seenAlice = await bPresences.take((p) => p.from === `${room}/Alice` && p.type !== 'unavailable', 3000, 'bob gets alice (o1)');
    assert.equal((seenAlice.muc as any)?.affiliation, 'owner');
    assert.equal((seenAlice.muc as any)?.jid, a.jid, 'with her real JID');
    const seenBob = await aPresences.take((p) => p.from === `${room}/Bob` && p.type !== 'unavailable', 3000, 'alice gets bob (o2)');
    assert.equal((seenBob.muc as any)?.jid, b.jid);
    assert.deepEqual(codes(seenBob), [], 'no 110 for somebody else');

    b.agent.sendMessage({ to: room, type: 'groupchat', body: 'from o2', id: 'b-1' });
    const atAlice = await a.messages.take((m) => m.body === 'from o2', 3000, 'groupchat from o2 at alice');
    assert.equal(atAlice.from, `${room}/Bob`);
    assert.match(atAlice.stanzaIds?.find((s) => s.by === room)?.id ?? '', /^[0-9a-f]{24}$/);
    const echo = await b.messages.take((m) => m.body === 'from o2', 3000, 'echo at bob');
    assert.equal(echo.id, 'b-1');
    a.agent.sendMessage({ to: room, type: 'groupchat', body: 'from o1' });
    assert.equal((await b.messages.take((m) => m.body === 'from o1', 3000, 'groupchat from o1 at bob')).from, `${room}/Alice`);
    await a.messages.take((m) => m.body === 'from o1', 3000, 'echo at alice');

    a.agent.sendMessage({ to: `${room}/Bob`, type: 'chat', body: 'psst' });
    assert.equal((await b.messages.take((m) => m.body === 'psst', 3000, 'a private message across nodes')).from, `${room}/Alice`);

    assert.equal(await joinError(c, room, 'Alice'), 'conflict', "a nick held on the other node is taken");
    const c0 = await on(0, carol);
    assert.equal(await joinError(c0, room, 'Bob'), 'conflict', 'and the other way round');

    // A nick change on o2 is seen on o1 (303, then the new nick).
    const renamedAway = aPresences.take((p) => p.from === `${room}/Bob` && p.type === 'unavailable', 3000, 'rename seen on o1');
    await withTimeout(b.agent.changeNick(room, 'Robert'), 3000, 'bob changes nick');
    const rename = await renamedAway;
    assert.ok(codes(rename).includes('303'));
    assert.equal((rename.muc as any).nick, 'Robert');
    await aPresences.take((p) => p.from === `${room}/Robert` && p.type !== 'unavailable', 3000, 'new nick on o1');
    assert.equal(await joinError(c0, room, 'Robert'), 'conflict', 'the new nick is held across nodes');

    // Leaving on o2 is seen on o1, and the directory forgets the resource.
    const gone = aPresences.take((p) => p.from === `${room}/Robert` && p.type === 'unavailable', 3000, 'bob leaves, seen on o1');
    await withTimeout(b.agent.leaveRoom(room, 'Robert'), 3000, 'bob leaves');
    await gone;
    assert.deepEqual(await occupantKeys(room), [a.jid]);
  });

  it('an owner on one node kicks an occupant on the other; bans and the subject hold on both', async () => {
    const [alice, bob, dave, erin] = [await user(), await user(), await user(), await user()];
    const a = await on(0, alice);
    const b = await on(1, bob);
    const room = `court@${muc()}`;
    await withTimeout(a.agent.joinRoom(room, 'alice'), 6000, 'alice creates');
    const aPresences = presences(a);
    const bPresences = presences(b);
    await withTimeout(b.agent.joinRoom(room, 'bob'), 6000, 'bob joins on o2');
    await aPresences.take((p) => p.from === `${room}/bob` && p.type !== 'unavailable', 3000, 'bob seen on o1');

    await withTimeout(a.agent.kick(room, 'bob', 'be nice'), 3000, 'alice (o1) kicks bob (o2)');
    const kicked = await bPresences.take((p) => p.type === 'unavailable' && p.from === `${room}/bob`, 3000, 'bob kicked');
    assert.deepEqual(codes(kicked), ['110', '307']);
    assert.equal((kicked.muc as any).reason, 'be nice');
    const seen = await aPresences.take((p) => p.type === 'unavailable' && p.from === `${room}/bob`, 3000, 'alice sees the kick');
    assert.deepEqual(codes(seen), ['307']);
    b.agent.sendMessage({ to: room, type: 'groupchat', body: 'still here?' });
    assert.equal((await b.messages.take((m) => m.type === 'error', 3000, 'a kicked occupant cannot speak')).error?.condition, 'not-acceptable');
    for (let i = 0; i < 50 && (await occupantKeys(room)).length > 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await occupantKeys(room), [a.jid], 'the kicked resource left the directory');

    // Bob rejoins on o2 (the room is held there again); alice bans dave and sets the subject on o1.
    await withTimeout(b.agent.joinRoom(room, 'bob'), 6000, 'bob rejoins after the kick');
    await withTimeout(a.agent.ban(room, dave.jid, 'no'), 3000, 'alice bans dave');
    const topic = new Promise<any>((resolve) => b.agent.once('muc:topic', resolve));
    a.agent.setSubject(room, 'Order in court');
    assert.equal((await withTimeout(topic, 3000, 'topic at bob (o2)')).topic, 'Order in court');
    const d = await on(1, dave);
    assert.equal(await joinError(d, room, 'dave'), 'forbidden', 'a ban made on o1 holds on o2, which holds the room');
    const e = await on(1, erin);
    const erinTopic = new Promise<any>((resolve) => e.agent.once('muc:topic', resolve));
    await withTimeout(e.agent.joinRoom(room, 'erin'), 6000, 'erin joins on o2');
    assert.equal((await withTimeout(erinTopic, 3000, 'topic at erin')).topic, 'Order in court', 'the subject set on o1, as o2 reads it');
  });

  it('a message sent over REST on a node without the room, the configuration and the destruction reach the other node', async () => {
    const [alice, bob] = [await user(), await user()];
    const a = await on(1, alice);
    const b = await on(1, bob);
    const room = `stage@${muc()}`;
    await withTimeout(a.agent.joinRoom(room, 'Alice'), 6000, 'alice creates on o2');
    await withTimeout(b.agent.joinRoom(room, 'Bob'), 6000, 'bob joins on o2');
    const [dialogId] = await dialogsNamed(alice, 'stage');
    assert.ok(dialogId);

    // On o1, which holds nothing of the room: sent to the dialog's QuickBlox room, relayed to the open room.
    assert.equal(await rest(nodes[0]!, alice, 'POST', '/chat/Message.json', { chat_dialog_id: dialogId, message: 'over REST on o1', send_to_chat: 1 }), 201);
    const relayed = await b.messages.take((m) => m.body === 'over REST on o1', 3000, 'the REST message at bob (o2)');
    assert.equal(relayed.from, `${room}/Alice`, 'from the nick its sender holds in the room');

    // A configuration change made on o1 (alice's second resource there) is read by o2.
    const a1 = await pools[0]!.connect(alice, 'second');
    await withTimeout(a1.agent.joinRoom(room, 'Alice'), 6000, 'alice joins on o1 too');
    const notice = b.messages.take((m) => m.from === room && (m.muc as any)?.statusCodes?.includes('104'), 3000, '104 at bob (o2)');
    await withTimeout(a1.agent.configureRoom(room, { type: 'submit', fields: [
      { name: 'FORM_TYPE', value: 'http://jabber.org/protocol/muc#roomconfig' },
      { name: 'muc#roomconfig_roomname', value: 'The Stage' },
    ] }), 3000, 'configure on o1');
    await notice;
    assert.equal((await b.agent.getDiscoInfo(room)).identities[0]?.name, 'The Stage', 'o2 answers with the new title');

    const bPresences = presences(b);
    await withTimeout(a1.agent.destroyRoom(room, { reason: 'show is over' }), 3000, 'destroy on o1');
    const destroyed = await bPresences.take((p) => p.type === 'unavailable' && p.from === `${room}/Bob`, 3000, 'bob (o2) sees the room go');
    assert.equal((destroyed.muc as any)?.destroy?.reason, 'show is over');
    for (let i = 0; i < 50 && (await occupantKeys(room)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await occupantKeys(room), [], 'everyone left the directory');
    assert.deepEqual(await dialogsNamed(bob, 'The Stage'), [], 'and the dialog is gone');
  });

  it('a room that is not persistent stays while an occupant is on another node, and goes with the last one', async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const a = await on(0, alice);
    const b = await on(1, bob);
    const room = `brief@${muc()}`;
    await withTimeout(a.agent.joinRoom(room, 'Alice'), 6000, 'alice creates on o1');
    await withTimeout(a.agent.configureRoom(room, { type: 'submit', fields: [
      { name: 'FORM_TYPE', value: 'http://jabber.org/protocol/muc#roomconfig' },
      { name: 'muc#roomconfig_persistentroom', value: '0' },
    ] }), 3000, 'not persistent');
    await withTimeout(b.agent.joinRoom(room, 'Bob'), 6000, 'bob joins on o2');
    await withTimeout(a.agent.leaveRoom(room, 'Alice'), 3000, 'alice leaves o1');
    const c = await on(0, carol);
    const again = await withTimeout(c.agent.joinRoom(room, 'Carol'), 6000, 'carol joins on o1 while bob is on o2');
    assert.ok(!codes(again).includes('201'), 'the room is still there');
    await withTimeout(c.agent.leaveRoom(room, 'Carol'), 3000, 'carol leaves o1');
    await withTimeout(b.agent.leaveRoom(room, 'Bob'), 3000, 'bob leaves o2: nobody is left');
    const fresh = await withTimeout(c.agent.joinRoom(room, 'Carol'), 6000, 'carol joins once more');
    assert.ok(codes(fresh).includes('201'), 'a new room: the old one went with its last occupant');
  });

  it('two nodes creating the same name at once end in one room, one dialog', async () => {
    for (let round = 0; round < 3; round++) {
      const [alice, bob] = [await user(), await user()];
      const a = await on(0, alice);
      const b = await on(1, bob);
      const name = `race${round}`;
      const room = `${name}@${muc()}`;
      const [ja, jb] = await Promise.all([
        withTimeout(a.agent.joinRoom(room, 'A'), 12000, 'alice creates on o1'),
        withTimeout(b.agent.joinRoom(room, 'B'), 12000, 'bob creates on o2'),
      ]);
      // With SQLite a creation runs to its end before the other node reads its stanza (the store
      // answers without yielding to the sockets); with PostgreSQL (PARLEY_STORE=postgres) they interleave.
      const creators = [ja, jb].filter((p) => codes(p).includes('201'));
      assert.equal(creators.length, 1, `round ${round}: one of the two created the room`);
      const [da, db] = [await dialogsNamed(alice, name), await dialogsNamed(bob, name)];
      assert.equal(da.length, 1, 'alice is in one dialog of that name');
      assert.deepEqual(db, da, 'and bob in the same one');
      assert.deepEqual(await occupantKeys(room), [a.jid, b.jid].sort(), 'both are in the one room');
      a.agent.sendMessage({ to: room, type: 'groupchat', body: `race ${round}` });
      await b.messages.take((m) => m.body === `race ${round}`, 3000, 'bob hears alice');
    }
  });

  it('a node that dies: its occupants leave the open room on the other node within the TTL, and their nick is free', async () => {
    const [alice, carol, dave] = [await user(), await user(), await user()];
    const o3 = await cluster.addNode('o3');
    const pool3 = new StanzaPool(() => o3);
    pools.push(pool3);
    const a = await on(0, alice);
    const c = await pool3.connect(carol);
    const room = `wake@${muc()}`;
    await withTimeout(a.agent.joinRoom(room, 'Alice'), 6000, 'alice creates on o1');
    const aPresences = presences(a);
    await withTimeout(c.agent.joinRoom(room, 'Carol'), 6000, 'carol joins on o3');
    await aPresences.take((p) => p.from === `${room}/Carol` && p.type !== 'unavailable', 3000, 'carol seen on o1');

    const died = Date.now();
    (o3.server.cluster as RedisCluster).crash();
    stopped.add(o3);
    pool3.disconnectAll();
    await o3.stop();
    assert.ok((await occupantKeys(room)).includes(c.jid), 'nobody cleaned up on the way out');
    await aPresences.take((p) => p.from === `${room}/Carol` && p.type === 'unavailable', TTL * 1000 + 2000, 'carol leaves with her node');
    assert.ok(Date.now() - died < TTL * 1000 + 2000);
    assert.deepEqual(await occupantKeys(room), [a.jid]);
    const d = await on(1, dave);
    await withTimeout(d.agent.joinRoom(room, 'Carol'), 6000, 'dave takes the nick on o2');
    await aPresences.take((p) => p.from === `${room}/Carol` && p.type !== 'unavailable' && (p.muc as any)?.jid === d.jid, 3000, 'alice sees dave as Carol');
  });
});
