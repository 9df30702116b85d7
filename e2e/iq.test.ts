// IQs: roster, disco, carbons, unknown payloads, and IQs routed between users.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { xml, type Conn } from './support/clients.js';

describe('IQ handling', () => {
  let alice: Conn;
  let bob: Conn;
  const fx = useServer({
    setup: async () => {
      alice = await fx.pool.connect(await fx.t.createUser(), { resource: 'a' });
      bob = await fx.pool.connect(await fx.t.createUser(), { transport: 'ws', resource: 'b' });
    },
  });

  it('roster get returns an empty jabber:iq:roster query', async () => {
    for (const to of [undefined, alice.user.jid]) {
      const res = await alice.iq(xml('iq', { type: 'get', ...(to ? { to } : {}) }, xml('query', { xmlns: 'jabber:iq:roster' })));
      assert.equal(res.attrs.type, 'result');
      const query = res.getChild('query', 'jabber:iq:roster');
      assert.ok(query, `a roster query in ${res}`);
      assert.equal(query.children.length, 0);
    }
  });

  it("another user's roster is forbidden", async () => {
    await assert.rejects(alice.iq(xml('iq', { type: 'get', to: bob.user.jid }, xml('query', { xmlns: 'jabber:iq:roster' }))), (e: any) => e.condition === 'forbidden');
  });

  it('disco#info of the server lists ping and carbons', async () => {
    const res = await alice.iq(xml('iq', { type: 'get', to: fx.t.domain }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    assert.equal(res.attrs.from, fx.t.domain);
    const query = res.getChild('query', 'http://jabber.org/protocol/disco#info')!;
    const features = query.getChildren('feature').map((f) => f.attrs.var);
    for (const f of ['urn:xmpp:ping', 'urn:xmpp:carbons:2', 'http://jabber.org/protocol/disco#info']) assert.ok(features.includes(f), `${f} in ${features}`);
    assert.ok(query.getChildren('identity').some((i) => i.attrs.category === 'server'));
  });

  it('carbons enable and disable return a result', async () => {
    for (const name of ['enable', 'disable']) {
      const res = await alice.iq(xml('iq', { type: 'set' }, xml(name, { xmlns: 'urn:xmpp:carbons:2' })));
      assert.equal(res.attrs.type, 'result');
    }
  });

  it('an unknown IQ to the server gets service-unavailable', async () => {
    await assert.rejects(alice.iq(xml('iq', { type: 'get', to: fx.t.domain }, xml('query', { xmlns: 'urn:example:nothing' }))), (e: any) => {
      assert.equal(e.condition, 'service-unavailable');
      return true;
    });
    await assert.rejects(alice.iq(xml('iq', { type: 'set' }, xml('frobnicate', { xmlns: 'urn:example:nothing' }))), (e: any) => e.condition === 'service-unavailable');
  });

  it('an IQ with two payloads is a bad-request', async () => {
    const iq = xml('iq', { type: 'get', to: fx.t.domain }, xml('ping', { xmlns: 'urn:xmpp:ping' }), xml('ping', { xmlns: 'urn:xmpp:ping' }));
    await assert.rejects(alice.iq(iq), (e: any) => e.condition === 'bad-request');
  });

  it("an IQ to another user's full JID is routed, and the result comes back", async () => {
    // @xmpp/client answers pings itself.
    const res = await alice.iq(xml('iq', { type: 'get', to: bob.jid }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(res.attrs.type, 'result');
    assert.equal(res.attrs.from, bob.jid);
    // And an unknown payload is answered by Bob's client with an error that is routed back too.
    await assert.rejects(alice.iq(xml('iq', { type: 'get', to: bob.jid }, xml('query', { xmlns: 'urn:example:nothing' }))), (e: any) => e.condition === 'service-unavailable');
  });

  it('an IQ to an offline resource of a known user gets service-unavailable', async () => {
    await assert.rejects(alice.iq(xml('iq', { type: 'get', to: `${bob.user.jid}/gone` }, xml('ping', { xmlns: 'urn:xmpp:ping' }))), (e: any) => e.condition === 'service-unavailable');
  });

  it('disco#info of an account answers for the account', async () => {
    const res = await alice.iq(xml('iq', { type: 'get', to: bob.user.jid }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    assert.equal(res.attrs.from, bob.user.jid);
    assert.ok(res.getChild('query')?.getChildren('identity').some((i) => i.attrs.category === 'account'));
  });
});
