// Stream management across cluster nodes (PARLEY_TEST_REDIS_URL): a client cut from one node
// resumes on another; a resume against a dead node fails and a fresh login finds the messages in
// offline storage; the same full JID bound on two nodes ends the older session with <conflict/>.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestUser } from './support/server.js';
import { TRANSPORTS, useCluster, withoutRedis } from './support/cluster.js';
import { RawPool, streamError, type RawClient } from './support/raw.js';
import { NS_SM, SmRaw } from './support/sm.js';
import { sleep } from './support/wait.js';
import type { RedisCluster } from '../src/cluster/redis.js';

const range = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

const waitFor = async (what: () => boolean | Promise<boolean>, label: string, ms = 4000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await sleep(10);
  }
};

for (const transport of TRANSPORTS) describe(`stream management across cluster nodes (${transport === 'links' ? 'direct links' : 'Redis pub/sub'})`, { skip: withoutRedis }, () => {
  const raws = new RawPool();
  const cluster = useCluster(['a', 'b', 'c'], transport, { sm_ack_request_every: 0, sm_ack_request_seconds: 0 }, { beforeStop: async () => raws.destroyAll() });
  const { nodes, stopped, prefix } = cluster;

  const port = (i: number): number => nodes[i]!.server.ports.c2s;
  const user = (): Promise<TestUser> => nodes[0]!.createUser();
  const registry = (bare: string): Promise<Record<string, string>> => cluster.redis.hgetall(`${prefix}sess:${bare}`);

  /** A plain sender logged in on node `i`. */
  async function sender(i: number, u?: TestUser): Promise<{ raw: RawClient; jid: string }> {
    const who = u ?? (await user());
    const raw = await raws.connect(port(i));
    return { raw, jid: await raw.login(who.username, who.password) };
  }

  /** Sends chats and waits (ping round trip) until the sender's node processed them. */
  async function sendAll(from: RawClient, to: string, bodies: string[]): Promise<void> {
    for (const b of bodies) from.send(`<message type="chat" to="${to}" id="${b}"><body>${b}</body></message>`);
    const id = `ping-${randomBytes(4).toString('hex')}`;
    from.send(`<iq type="get" id="${id}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    await from.expect(new RegExp(`id="${id}"`));
  }

  it('resumes on another node: what was sent meanwhile from a third node arrives once, in order, and nobody hears it go', async () => {
    const [b, s] = [await user(), await user()];
    // The sender is a subscribed contact: it would see an unavailable presence if node a announced one.
    await nodes[0]!.store.roster.setItem(b.id, { jid: s.jid, name: null, subscription: 'both', ask: false, groups: [] });
    await nodes[0]!.store.roster.setItem(s.id, { jid: b.jid, name: null, subscription: 'both', ask: false, groups: [] });
    const carol = await sender(2, s);
    const bob = await new SmRaw(raws, port(0), b, 'phone').login();
    await carol.raw.expect(new RegExp(`<presence[^>]*from="${bob.jid}"`));
    await sendAll(carol.raw, b.jid, range(4, 'x'));
    await waitFor(() => bob.bodies().length === 4, 'the first four on node a');
    bob.ack(bob.h - 1); // the last one stays unacknowledged: it comes again
    await sleep(50);
    bob.cut();
    await sendAll(carol.raw, b.jid, range(4, 'y')); // queued on the detached session on node a
    await sendAll(carol.raw, bob.jid, ['y-full']); // to the full JID too
    const resumed = await bob.resume(bob.h - 1, bob.id, port(1));
    assert.match(resumed, new RegExp(`<resumed xmlns="${NS_SM}" h="1" previd="${bob.id}"/>`), 'h: the initial presence');
    await sendAll(carol.raw, b.jid, range(4, 'z')); // now routed to node b
    const expected = ['x0', 'x1', 'x2', 'x3', 'x3', 'y0', 'y1', 'y2', 'y3', 'y-full', 'z0', 'z1', 'z2', 'z3'];
    await waitFor(() => bob.bodies().length >= expected.length, 'everything on node b');
    await sleep(200);
    assert.deepEqual(bob.bodies(), expected, 'the unacknowledged x3 once more, then everything once, in order');

    assert.match((await registry(b.jid)).phone ?? '', /^b\t1\t/, 'the resource is node b\'s, still available');
    assert.equal(nodes[0]!.server.core.sessions.get(b.jid, 'phone'), undefined, 'node a let it go');
    assert.equal(await nodes[0]!.store.offline.count(b.id), 0, 'nothing went to offline storage');
    assert.doesNotMatch(carol.raw.received, /type="unavailable"/, 'no unavailable presence');
    // The session carries on from node b: its counts continue, and it sends.
    assert.equal(await bob.request(), 1);
    bob.raw.send(bob.chat(s.jid, 'from b'));
    await carol.raw.expect(/<body>from b<\/body>/);
    assert.equal(await bob.request(), 2);
  });

  it('stanzas sent while the session moves are neither lost nor duplicated', async () => {
    const bob = await new SmRaw(raws, port(0), await user()).login();
    const carol = await sender(2);
    bob.cut();
    const bodies = range(60, 'm');
    const sending = (async () => {
      for (const body of bodies) {
        carol.raw.send(`<message type="chat" to="${bob.user.jid}" id="${body}"><body>${body}</body></message>`);
        await sleep(2);
      }
    })();
    await sleep(30);
    assert.match(await bob.resume(bob.h, bob.id, port(1)), /<resumed /);
    await sending;
    await waitFor(() => bob.bodies().length >= bodies.length, 'all sixty', 6000);
    await sleep(200);
    assert.deepEqual(bob.bodies(), bodies);
  });

  it('resumes again on a third node, and back on the first', async () => {
    const bob = await new SmRaw(raws, port(0), await user()).login();
    const carol = await sender(2);
    const expected: string[] = [];
    for (const [hop, to] of [[0, 1], [1, 2], [2, 0]] as const) {
      const batch = range(3, `h${hop}-`);
      expected.push(...batch);
      bob.cut();
      await sendAll(carol.raw, bob.user.jid, batch);
      assert.match(await bob.resume(bob.h, bob.id, port(to)), /<resumed /, `hop ${hop} → node ${to}`);
      await waitFor(() => bob.bodies().length === expected.length, `batch ${hop}`);
    }
    await sleep(100);
    assert.deepEqual(bob.bodies(), expected);
  });

  it('the user\'s other resources on other nodes learn where the moved one is: bare-JID messages reach both', async () => {
    const b = await user();
    const web = await raws.connect(port(2));
    const webJid = await web.login(b.username, b.password, 'web');
    const bob = await new SmRaw(raws, port(0), b, 'phone').login();
    await web.expect(new RegExp(`<presence[^>]*from="${bob.jid}"`));
    bob.cut();
    assert.match(await bob.resume(bob.h, bob.id, port(1)), /<resumed /);
    await sleep(200);
    const carol = await sender(2); // beside the web resource: its node copies bare-JID messages to the phone's
    await sendAll(carol.raw, b.jid, ['to both']);
    await web.expect('<body>to both</body>');
    await waitFor(() => bob.bodies().includes('to both'), 'the moved resource got it too');
    assert.ok(webJid.endsWith('/web'));
  });

  it('refuses what it must: an unknown node, another user\'s session, an h above what was sent', async () => {
    const bob = await new SmRaw(raws, port(0), await user()).login();
    const carol = await sender(2);
    await sendAll(carol.raw, bob.user.jid, ['only']);
    await waitFor(() => bob.bodies().length === 1, 'one message');
    bob.cut();
    // An id naming a node that does not exist.
    const ghost = `abc.${Buffer.from('no-such-node').toString('base64url')}`;
    assert.match(await bob.resume(bob.h, ghost, port(1)), /<failed xmlns="urn:xmpp:sm:3"[^>]*><item-not-found /);
    // Another user presenting bob's id.
    const mallory = new SmRaw(raws, port(1), await user());
    const raw = await mallory.authenticate();
    raw.send(`<resume xmlns="${NS_SM}" previd="${bob.id}" h="0"/>`);
    await raw.expect(/<failed xmlns="urn:xmpp:sm:3"[^>]*><item-not-found /);
    // Garbage ids.
    raw.send(`<resume xmlns="${NS_SM}" previd="${'x.'.repeat(400)}" h="0"/><resume xmlns="${NS_SM}" previd="a.%%%" h="0"/>`);
    await raw.expect(/<failed[^>]*><item-not-found [^>]*\/><\/failed><failed[^>]*><item-not-found /);
    // bob still can; an h above what was sent fails and ends the session on node a.
    const tooHigh = await bob.resume(99, bob.id, port(1));
    assert.match(tooHigh, /<failed xmlns="urn:xmpp:sm:3" h="\d+"><undefined-condition [^>]*\/><handled-count-too-high xmlns="urn:xmpp:sm:3" h="99" send-count="2"\/><\/failed>/);
    await waitFor(() => !nodes[0]!.server.core.sessions.get(bob.user.jid, bob.resource), 'the session ended on node a');
    assert.match(await bob.resume(bob.h, bob.id, port(2)), /<failed[^>]*><item-not-found /);
    // Nothing lost: what it had not acknowledged is in offline storage.
    const again = await new SmRaw(raws, port(2), bob.user, 'again').login();
    await waitFor(() => again.bodies().length === 1, 'from offline storage');
    assert.deepEqual(again.bodies(), ['only']);
  });

  it('a resume against a dead node fails with item-not-found; a fresh login gets the messages from offline storage', async () => {
    const doomed = await cluster.addNode('doomed');
    const bob = await new SmRaw(raws, doomed.server.ports.c2s, await user()).login();
    const carol = await sender(2);
    await sendAll(carol.raw, bob.user.jid, range(3, 'k'));
    await waitFor(() => bob.bodies().length === 3, 'three');
    bob.ack(bob.h - 1); // k2 not acknowledged
    await sleep(50);
    bob.cut();
    await sendAll(carol.raw, bob.user.jid, ['k3']);
    (doomed.server.cluster as RedisCluster).crash();
    stopped.add(doomed);
    await doomed.stop(); // its sessions end: what they held goes to (shared) offline storage
    await sendAll(carol.raw, bob.user.jid, ['k4']); // nobody listens on its channel: offline storage
    const started = Date.now();
    assert.match(await bob.resume(bob.h, bob.id, port(1)), /<failed xmlns="urn:xmpp:sm:3"[^>]*><item-not-found /);
    assert.ok(Date.now() - started < 2000, 'no waiting for a timeout: nobody listened');
    const again = await new SmRaw(raws, port(1), bob.user).login();
    await waitFor(() => again.bodies().length >= 3, 'offline messages');
    await sleep(150);
    assert.deepEqual(again.bodies(), ['k2', 'k3', 'k4']);
  });

  it('the same full JID bound on another node replaces the older session with <conflict/>', async () => {
    const u = await user();
    const first = await raws.connect(port(0));
    const jid = await first.login(u.username, u.password, 'desk');
    const second = await raws.connect(port(1));
    assert.equal(await second.login(u.username, u.password, 'desk'), jid);
    await first.expect(streamError('conflict'));
    await first.waitClosed();
    await waitFor(() => !nodes[0]!.server.core.sessions.get(u.jid, 'desk'), 'gone from node a');
    assert.match((await registry(u.jid)).desk ?? '', /^b\t/);
    // The newer session gets what is sent to that JID, from anywhere.
    const carol = await sender(2);
    await sendAll(carol.raw, jid, ['to the newer one']);
    await second.expect(/<body>to the newer one<\/body>/);
    assert.doesNotMatch(second.received, /type="unavailable"[^>]*from="[^"]*\/desk"|from="[^"]*\/desk"[^>]*type="unavailable"/, 'no unavailable presence of its own JID');
  });
});
