// Presence subscriptions (RFC 6121 §3) and last activity (XEP-0012) with @xmpp/client.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { xml, type Conn, type XEl } from './support/clients.js';

const NS_ROSTER = 'jabber:iq:roster';
const NS_LAST = 'jabber:iq:last';

describe('roster subscriptions and last activity', () => {
  const fx = useServer();

  const push = (conn: Conn, jid: string) => conn.take((el) => el.name === 'iq' && el.attrs.type === 'set' && el.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.jid === jid, 3000, `roster push of ${jid}`);
  const pushed = async (conn: Conn, jid: string): Promise<Record<string, string>> => (await push(conn, jid)).getChild('query')!.getChild('item')!.attrs;
  const subscription = (conn: Conn, type: string, from: string) => conn.take((el) => el.name === 'presence' && el.attrs.type === type && el.attrs.from === from, 3000, `${type} from ${from}`);
  const rosterOf = async (conn: Conn): Promise<Record<string, string | undefined>> => {
    const res = await conn.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })));
    return Object.fromEntries(res.getChild('query')!.getChildren('item').map((i: XEl) => [i.attrs.jid, `${i.attrs.subscription}${i.attrs.ask ? `+${i.attrs.ask}` : ''}`]));
  };

  it('subscribe, approve, subscribe back: both sides end with "both" and see each other', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    await alice.send(xml('presence', { type: 'subscribe', to: b.jid, id: 's1' }));
    assert.deepEqual(await pushed(alice, b.jid), { jid: b.jid, subscription: 'none', ask: 'subscribe' });
    const request = await subscription(bob, 'subscribe', a.jid);
    assert.equal(request.attrs.to, b.jid);
    // Bob approves and asks back (what the QuickBlox SDK's roster.confirm sends).
    await bob.send(xml('presence', { type: 'subscribed', to: a.jid }));
    await bob.send(xml('presence', { type: 'subscribe', to: a.jid }));
    assert.equal((await pushed(bob, a.jid)).subscription, 'from');
    assert.deepEqual(await pushed(alice, b.jid), { jid: b.jid, subscription: 'to' });
    await subscription(alice, 'subscribed', b.jid);
    const bobPresence = await alice.take((el) => el.name === 'presence' && el.attrs.from === bob.jid && !el.attrs.type);
    assert.equal(bobPresence.attrs.to, alice.jid);
    await subscription(alice, 'subscribe', b.jid);
    await alice.send(xml('presence', { type: 'subscribed', to: b.jid }));
    assert.equal((await pushed(alice, b.jid)).subscription, 'both');
    await subscription(bob, 'subscribed', a.jid);
    assert.deepEqual(await rosterOf(alice), { [b.jid]: 'both' });
    assert.deepEqual(await rosterOf(bob), { [a.jid]: 'both' });
    // Presence now flows both ways; Bob going offline is seen by Alice.
    await bob.stop();
    await alice.take((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === bob.jid);
    await alice.stop();
  });

  it('keeps a request for an offline contact until the next login; a refusal clears the pending ask', async () => {
    const [a, c] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice = await fx.pool.connect(a);
    await alice.send(xml('presence', { type: 'subscribe', to: c.jid }));
    await push(alice, c.jid);
    const carol = await fx.pool.connect(c);
    const request = await subscription(carol, 'subscribe', a.jid);
    assert.ok(request.getChild('delay', 'urn:xmpp:delay'), 'delivered from offline storage');
    await carol.send(xml('presence', { type: 'unsubscribed', to: a.jid }));
    assert.deepEqual(await pushed(alice, c.jid), { jid: c.jid, subscription: 'none' });
    await subscription(alice, 'unsubscribed', c.jid);
    assert.deepEqual(await rosterOf(alice), { [c.jid]: 'none' });
    await Promise.all([alice.stop(), carol.stop()]);
  });

  it('removing a contact cancels the subscriptions both ways', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    await alice.send(xml('presence', { type: 'subscribe', to: b.jid }));
    await subscription(bob, 'subscribe', a.jid);
    await bob.send(xml('presence', { type: 'subscribed', to: a.jid }));
    await subscription(alice, 'subscribed', b.jid);
    assert.deepEqual(await rosterOf(bob), { [a.jid]: 'from' });
    await alice.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: b.jid, subscription: 'remove' }))));
    await subscription(bob, 'unsubscribe', a.jid);
    assert.deepEqual(await rosterOf(bob), { [a.jid]: 'none' });
    assert.deepEqual(await rosterOf(alice), {});
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('answers jabber:iq:last for users (0 online, seconds since logout offline), the server, and refuses unknown users', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const last = (conn: Conn, to: string) => conn.iq(xml('iq', { type: 'get', to }, xml('query', { xmlns: NS_LAST })));
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    assert.equal((await last(alice, b.jid)).getChild('query')?.attrs.seconds, '0');
    assert.ok((await fx.t.store.accounts.getUser(b.appId, b.id))?.lastRequestAt, 'presence recorded last_request_at');
    await bob.stop();
    const deadline = Date.now() + 2000;
    while (fx.t.server.core.sessions.isOnline(b.jid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 1100));
    const offline = Number((await last(alice, b.jid)).getChild('query')?.attrs.seconds);
    assert.ok(offline >= 1 && offline < 10, `seconds since logout: ${offline}`);
    assert.match((await last(alice, fx.t.domain)).getChild('query')?.attrs.seconds ?? '', /^\d+$/);
    const unknown = await last(alice, `999999-${a.appId}@${fx.t.domain}`).then(() => null, (e: { condition?: string }) => e);
    assert.equal(unknown?.condition, 'service-unavailable');
    const otherApp = await fx.t.createApp();
    const foreign = await fx.t.createUser(undefined, undefined, otherApp);
    assert.ok(await last(alice, foreign.jid).then(() => null, (e) => e), 'another application\'s user is refused');
    await alice.stop();
  });
});
