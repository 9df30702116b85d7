// Three nodes on loopback sharing one store and one Redis (PARLEY_TEST_REDIS_URL), once through Redis
// pub/sub and once over direct links: 1-1 messages, presence and IQs across nodes, offline storage for
// users online nowhere, and a node that dies.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestUser } from './support/server.js';
import { TRANSPORTS, useCluster, withoutRedis } from './support/cluster.js';
import { ClientPool, isMessage, withBody, xml, type Conn, type XEl } from './support/clients.js';
import { sleep } from './support/wait.js';
import type { RedisCluster } from '../src/cluster/redis.js';
import type { Cluster } from '../src/cluster/types.js';

const TTL = 2; // seconds: a dead node's sessions leave the registry within TTL + one heartbeat (TTL/3)
const NS_DELAY = 'urn:xmpp:delay';

const bodyIs = (text: string) => (el: XEl) => withBody(el) && el.getChildText('body') === text;
const presenceFrom = (jid: string, type?: string) => (el: XEl) => el.name === 'presence' && el.attrs.from === jid && el.attrs.type === type;

/** Counts what a node asks of the cluster. */
function spy(cluster: Cluster): { calls: number } {
  const counter = { calls: 0 };
  for (const name of ['locate', 'locateMany', 'publish'] as const) {
    const original = cluster[name].bind(cluster) as (...args: unknown[]) => Promise<unknown>;
    (cluster as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      counter.calls++;
      return original(...args);
    };
  }
  return counter;
}

for (const transport of TRANSPORTS) describe(`cluster (${transport === 'links' ? 'direct links, Redis as fallback' : 'Redis pub/sub'})`, { skip: withoutRedis }, () => {
  const pools: ClientPool[] = [];
  const cluster = useCluster(['n1', 'n2', 'n3'], transport, { cluster_ttl: TTL }, { beforeStop: () => Promise.all(pools.map((p) => p.stopAll())).then(() => {}) });
  const { nodes, stopped, prefix } = cluster;
  before(() => {
    for (const node of nodes) pools.push(new ClientPool(node));
  });

  const user = (): Promise<TestUser> => nodes[0]!.createUser();
  const on = (node: number, u: TestUser, opts: Parameters<ClientPool['connect']>[1] = {}): Promise<Conn> => pools[node]!.connect(u, opts);
  const registry = async (bare: string): Promise<Record<string, string>> => cluster.redis.hgetall(`${prefix}sess:${bare}`);

  it('registers bound resources with their node and availability, and forgets them when they go', async () => {
    const u = await user();
    const conn = await on(1, u, { resource: 'phone' });
    const entry = (await registry(u.jid)).phone ?? '';
    assert.match(entry, /^n2\t1\t0\t<presence/);
    await conn.stop();
    for (let i = 0; i < 50 && (await registry(u.jid)).phone; i++) await sleep(20);
    assert.deepEqual(await registry(u.jid), {});
  });

  it('carries 1-1 messages both ways between nodes, chat states included', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(1, b);
    await alice.send(xml('message', { type: 'chat', to: b.jid, id: 'm1' }, xml('body', {}, 'hello from n1')));
    const got = await bob.take(bodyIs('hello from n1'));
    assert.equal(got.attrs.from, alice.jid);
    assert.equal(got.getChild('delay', NS_DELAY), undefined, 'live, not from offline storage');
    await bob.send(xml('message', { type: 'chat', to: alice.jid }, xml('body', {}, 'hello from n2')));
    assert.equal((await alice.take(bodyIs('hello from n2'))).attrs.from, bob.jid);
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    await bob.take((el) => el.name === 'message' && el.getChild('composing') !== undefined);
    // Order holds across the hop.
    for (let i = 0; i < 20; i++) await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, `n${i}`)));
    for (let i = 0; i < 20; i++) assert.equal((await bob.take(withBody)).getChildText('body'), `n${i}`);
    assert.deepEqual(await alice.inbox.drain(isMessage, 100), [], 'no error bounced to the sender');
  });

  it('stores a save_to_history message once (on the sending node) and delivers it with its dialog_id across nodes', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(1, b);
    const extra = xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'));
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'kept'), extra));
    const got = await bob.take(bodyIs('kept'));
    const dialogId = got.getChild('extraParams')?.getChildText('dialog_id');
    assert.ok(dialogId, `dialog_id on the delivered message: ${got}`);
    assert.match(got.attrs.id ?? '', /^[0-9a-f]{24}$/);
    await bob.ping();
    const listed = (await nodes[1]!.server.chat.listMessages({ appId: nodes[0]!.app.id, userId: b.id }, { chat_dialog_id: dialogId, mark_as_read: 0 })) as { items: { _id: string; message: string }[] };
    assert.deepEqual(listed.items.map((m) => [m._id, m.message]), [[got.attrs.id, 'kept']]);
  });

  it('a user with resources on two nodes gets a bare-JID message on both, whichever node the sender is on', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const phone = await on(0, b, { resource: 'phone' });
    const web = await on(1, b, { resource: 'web' });
    await phone.take(presenceFrom(web.jid), 3000, 'the phone sees the web resource come online');
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'to both, sender beside the phone')));
    await phone.take(bodyIs('to both, sender beside the phone'));
    await web.take(bodyIs('to both, sender beside the phone'));
    const carol = await on(2, await user());
    await carol.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'to both, from a third node')));
    await phone.take(bodyIs('to both, from a third node'));
    await web.take(bodyIs('to both, from a third node'));
    await web.stop();
    await phone.take(presenceFrom(web.jid, 'unavailable'));
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'phone only')));
    await phone.take(bodyIs('phone only'));
    await phone.stop();
    await sleep(100);
    const later = await on(2, b);
    assert.deepEqual((await later.inbox.drain(withBody, 300)).map(String), [], 'nothing was kept offline: every message was delivered');
  });

  it('delivers a REST send_to_chat message and a system notification made on one node to the recipient on another', async () => {
    const [a, b] = [await user(), await user()];
    const bob = await on(2, b);
    const caller = { appId: nodes[0]!.app.id, userId: a.id };
    const created = await nodes[0]!.server.chat.createMessage(caller, { recipient_id: b.id, message: 'from REST on n1', send_to_chat: 1 });
    const got = await bob.take(bodyIs('from REST on n1'));
    assert.equal(got.attrs.id, created._id);
    assert.equal(got.attrs.from, a.jid);
    const sys = await nodes[0]!.server.chat.createMessage(caller, { recipient_id: b.id, system: 1, action: 'ping' });
    const headline = await bob.take((el) => el.name === 'message' && el.attrs.type === 'headline');
    assert.equal(headline.attrs.id, sys._id);
  });

  it('keeps the local fast path: two sessions of one node never touch the cluster', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(2, a);
    const bob = await on(2, b);
    const counter = spy(nodes[2]!.server.cluster);
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'same node')));
    await bob.take(bodyIs('same node'));
    await alice.send(xml('message', { type: 'chat', to: bob.jid }, xml('body', {}, 'same node, full JID')));
    await bob.take(bodyIs('same node, full JID'));
    await alice.iq(xml('iq', { type: 'get', to: bob.jid }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(counter.calls, 0);
  });

  it('routes an IQ to a full JID on another node and its result back; an unknown resource gets service-unavailable', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(2, b);
    const result = await alice.iq(xml('iq', { type: 'get', to: bob.jid }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(result.attrs.type, 'result');
    assert.equal(result.attrs.from, bob.jid);
    await assert.rejects(alice.iq(xml('iq', { type: 'get', to: `${b.jid}/nowhere` }, xml('ping', { xmlns: 'urn:xmpp:ping' }))), /service-unavailable/);
  });

  it('sends presence to subscribed contacts on other nodes, and their current presence on login', async () => {
    const [a, c] = [await user(), await user()];
    await nodes[0]!.store.roster.setItem(a.id, { jid: c.jid, name: null, subscription: 'both', ask: false, groups: [] });
    await nodes[0]!.store.roster.setItem(c.id, { jid: a.jid, name: null, subscription: 'both', ask: false, groups: [] });
    const carol = await on(2, c);
    const alice = await on(0, a, { presence: false });
    await alice.send(xml('presence', {}, xml('status', {}, 'here')));
    const seen = await carol.take(presenceFrom(alice.jid));
    assert.equal(seen.getChildText('status'), 'here');
    assert.equal(seen.attrs.to, a.jid);
    await alice.take(presenceFrom(carol.jid), 3000, "carol's presence from n3");
    // A directed presence to a full JID on another node.
    await alice.send(xml('presence', { to: carol.jid }, xml('show', {}, 'dnd')));
    assert.equal((await carol.take((el) => presenceFrom(alice.jid)(el) && el.getChildText('show') === 'dnd')).attrs.to, carol.jid);
    await alice.stop();
    await carol.take(presenceFrom(alice.jid, 'unavailable'), 3000, 'unavailable after logout on n1');
  });

  it('stores a message for a user online nowhere, delivered at the next login on any node', async () => {
    const [a, d] = [await user(), await user()];
    const alice = await on(0, a);
    await alice.send(xml('message', { type: 'chat', to: d.jid, id: 'off1' }, xml('body', {}, 'while you were out')));
    await alice.ping();
    const dave = await on(2, d);
    const got = await dave.take(bodyIs('while you were out'));
    assert.ok(got.getChild('delay', NS_DELAY), 'from offline storage');
    assert.equal(got.attrs.from, alice.jid);
  });

  it('a stale cached location loses nothing: the node it names finds nobody, looks again and forwards the message live', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const first = await on(1, b);
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'to n2')));
    await first.take(bodyIs('to n2'));
    const onN2 = await nodes[0]!.server.cluster.locate(b.jid);
    assert.deepEqual(onN2.map((l) => l.node), ['n2']);
    await first.stop();
    const second = await on(2, b);
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'to n3')));
    assert.equal((await second.take(bodyIs('to n3'))).getChild('delay', NS_DELAY), undefined, 'live');
    // As if n1 had missed the registry's change notices: it still believes b is on n2.
    (nodes[0]!.server.cluster as unknown as { cache: Map<string, unknown> }).cache.set(b.jid, onN2);
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'via a stale route')));
    assert.equal((await second.take(bodyIs('via a stale route'))).getChild('delay', NS_DELAY), undefined, 'live, forwarded by n2');
    await second.stop();
    await sleep(100);
    const later = await on(0, b);
    assert.deepEqual((await later.inbox.drain(withBody, 300)).map(String), [], 'nothing was kept offline');
    await later.stop();
  });

  it('deleting an account on one node ends its sessions on the others, even where a lookup was cached', async () => {
    const [a, b] = [await user(), await user()];
    const alice = await on(0, a);
    const bob = await on(1, b);
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'before')));
    await bob.take(bodyIs('before')); // n1 now holds bob's location
    const phone = await on(2, b, { resource: 'phone' });
    assert.ok(await nodes[0]!.server.accounts.deleteUser(nodes[0]!.app.id, b.id));
    const ended = (c: Conn): boolean => c.errors.some((e) => e.condition === 'not-authorized');
    for (let i = 0; i < 250 && !(ended(bob) && ended(phone)); i++) await sleep(20);
    assert.ok(ended(bob) && ended(phone), 'not-authorized on n2 and on n3');
  });

  it('a node taken for dead (heartbeat stalled past the TTL) registers its sessions again once it is back', async () => {
    const u = await user();
    await on(1, u, { resource: 'survivor' });
    assert.ok((await registry(u.jid)).survivor);
    // As if n2's heartbeat had stalled and another node had reaped it: the node and its resource gone.
    await cluster.redis.multi().zrem(`${prefix}nodes`, 'n2').hdel(`${prefix}sess:${u.jid}`, 'survivor').exec();
    const since = Date.now();
    while (!(await registry(u.jid)).survivor) {
      assert.ok(Date.now() - since < 4000, 'registered again within a few heartbeats');
      await sleep(50);
    }
    assert.match((await registry(u.jid)).survivor ?? '', /^n2\t1\t/);
  });

  it('a node that dies: its sessions leave the registry within the TTL, messages to them go offline, the rest keep working', async () => {
    const [a, b, e] = [await user(), await user(), await user()];
    await nodes[0]!.store.roster.setItem(b.id, { jid: e.jid, name: null, subscription: 'both', ask: false, groups: [] });
    await nodes[0]!.store.roster.setItem(e.id, { jid: b.jid, name: null, subscription: 'both', ask: false, groups: [] });
    const alice = await on(0, a);
    const bob = await on(1, b);
    await on(2, e, { resource: 'doomed' });
    await bob.take(presenceFrom(`${e.jid}/doomed`), 3000, "bob sees eve's presence");
    assert.ok((await registry(e.jid)).doomed, 'registered on n3');

    const n3 = nodes[2]!;
    const died = Date.now();
    (n3.server.cluster as RedisCluster).crash();
    // Its process is gone: the sockets close, but it says nothing to the cluster.
    stopped.add(n3);
    await pools[2]!.stopAll();
    await n3.stop();
    assert.ok((await registry(e.jid)).doomed, 'nobody cleaned up on the way out');

    // Right away (its heartbeat is not stale yet): nobody listens on its channel, so offline storage takes it.
    await alice.send(xml('message', { type: 'chat', to: e.jid }, xml('body', {}, 'one')));
    await alice.ping();
    while ((await registry(e.jid)).doomed) {
      assert.ok(Date.now() - died < TTL * 1000 + 2000, 'the dead node\'s sessions are reaped within TTL + a heartbeat');
      await sleep(100);
    }
    await bob.take(presenceFrom(`${e.jid}/doomed`, 'unavailable'), 2000, 'bob (a contact on another node) learns that eve went away with her node');
    await alice.send(xml('message', { type: 'chat', to: e.jid }, xml('body', {}, 'two')));
    await alice.ping();
    assert.deepEqual(await alice.inbox.drain(isMessage, 100), [], 'no bounce: stored offline');

    // The others keep serving, and the stored messages reach the user on another node.
    await alice.send(xml('message', { type: 'chat', to: b.jid }, xml('body', {}, 'still here')));
    await bob.take(bodyIs('still here'));
    const eve = await on(1, e);
    assert.equal((await eve.take(withBody)).getChildText('body'), 'one');
    assert.equal((await eve.take(withBody)).getChildText('body'), 'two');
  });
});
