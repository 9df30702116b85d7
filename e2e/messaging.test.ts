// Chat messages between two @xmpp/client users over every transport and mix of transports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { withBody, xml, type Transport } from './support/clients.js';

const BODY = `<b>Tom & "Jerry"</b> 'quoted' ]]> &amp; — 🎉👩‍💻 Привет, мир! 日本語`;

describe('messaging', () => {
  const fx = useServer();

  const exchange = async (aliceTransport: Transport, bobTransport: Transport, mechanism: 'PLAIN' | 'SCRAM-SHA-1' = 'PLAIN'): Promise<void> => {
    const alice = await fx.pool.connect(await fx.t.createUser(), { transport: aliceTransport, mechanism });
    const bob = await fx.pool.connect(await fx.t.createUser(), { transport: bobTransport, mechanism });
    // Alice → Bob (bare JID), with a forged from.
    await alice.send(xml('message', { type: 'chat', to: bob.user.jid, from: `${bob.user.jid}/forged`, id: 'm1' }, xml('body', {}, BODY)));
    const got = await bob.take(withBody);
    assert.equal(got.attrs.from, alice.jid, 'from is stamped with the sender full JID');
    assert.equal(got.attrs.to, bob.user.jid);
    assert.equal(got.attrs.type, 'chat');
    assert.equal(got.attrs.id, 'm1');
    assert.equal(got.getChildText('body'), BODY);
    // Bob → Alice (full JID), replying.
    await bob.send(xml('message', { type: 'chat', to: alice.jid, from: 'nobody@localhost', id: 'm2' }, xml('body', {}, `re: ${BODY}`)));
    const reply = await alice.take(withBody);
    assert.equal(reply.attrs.from, bob.jid);
    assert.equal(reply.attrs.to, alice.jid);
    assert.equal(reply.getChildText('body'), `re: ${BODY}`);
    await Promise.all([alice.stop(), bob.stop()]);
  };

  it('TCP+STARTTLS ⇄ TCP+STARTTLS (SCRAM-SHA-1)', () => exchange('tcp', 'tcp', 'SCRAM-SHA-1'));
  it('WebSocket ⇄ WebSocket', () => exchange('ws', 'ws'));
  it('TCP ⇄ WebSocket', () => exchange('tcp', 'ws'));
  it('direct TLS ⇄ direct TLS', () => exchange('tls', 'tls'));
  it('direct TLS ⇄ WebSocket', () => exchange('tls', 'ws'));

  it('a message with no to goes to the sender own resources', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    await alice.send(xml('message', { type: 'chat' }, xml('body', {}, 'note to self')));
    const got = await alice.take(withBody);
    assert.equal(got.attrs.from, alice.jid);
    assert.equal(got.getChildText('body'), 'note to self');
    await alice.stop();
  });

  it('a burst of messages arrives complete and in order', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser(), { transport: 'ws' });
    const bob = await fx.pool.connect(await fx.t.createUser());
    for (let i = 0; i < 50; i++) await alice.send(xml('message', { type: 'chat', to: bob.user.jid }, xml('body', {}, `#${i} ✓`)));
    for (let i = 0; i < 50; i++) assert.equal((await bob.take(withBody)).getChildText('body'), `#${i} ✓`);
    await Promise.all([alice.stop(), bob.stop()]);
  });
});
