// Interoperability with the `stanza` client library (SCRAM-SHA-256 over WebSocket).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as XMPP from 'stanza';
import { useServer } from './support/fixture.js';
import { withBody, xml } from './support/clients.js';
import { Inbox, withTimeout } from './support/wait.js';

describe('stanza.js client', () => {
  const stanzaClients: XMPP.Agent[] = [];
  const fx = useServer({
    teardown: () => {
      for (const c of stanzaClients) c.disconnect();
    },
  });

  it('logs in over WebSocket, messages an @xmpp/client user and gets the reply', async () => {
    const carol = await fx.t.createUser();
    const alice = await fx.pool.connect(await fx.t.createUser(), { transport: 'tcp' });
    const agent = XMPP.createClient({
      jid: carol.jid,
      password: carol.password,
      resource: 'stanzajs',
      transports: { websocket: `ws://127.0.0.1:${fx.t.server.ports.ws}/ws`, bosh: false },
    });
    stanzaClients.push(agent);
    const messages = new Inbox<XMPP.Stanzas.ReceivedMessage>();
    agent.on('message', (m) => messages.push(m));
    const sent: string[] = [];
    agent.on('raw:outgoing', (data: string) => sent.push(data));
    const started = new Promise<void>((resolve, reject) => {
      agent.once('session:started', () => resolve());
      agent.once('auth:failed', () => reject(new Error('stanza.js: auth failed')));
    });
    agent.connect();
    await withTimeout(started, 5000, 'stanza.js session');
    assert.equal(agent.jid, `${carol.jid}/stanzajs`);
    assert.ok(sent.some((d) => /<auth [^>]*mechanism="SCRAM-SHA-256"/.test(d)), 'stanza.js used SCRAM-SHA-256');
    await agent.sendPresence();

    agent.sendMessage({ to: alice.user.jid, type: 'chat', body: 'hello from stanza.js — ✓ <&>' });
    const got = await alice.take(withBody);
    assert.equal(got.attrs.from, `${carol.jid}/stanzajs`);
    assert.equal(got.getChildText('body'), 'hello from stanza.js — ✓ <&>');

    await alice.send(xml('message', { type: 'chat', to: got.attrs.from!, id: 'r1' }, xml('body', {}, 'hi stanza.js 🎉')));
    const reply = await messages.take((m) => m.body !== undefined, 3000, 'reply at stanza.js');
    assert.equal(reply.from, alice.jid);
    assert.equal(reply.body, 'hi stanza.js 🎉');
    assert.equal(reply.id, 'r1');

    // An IQ from stanza.js to the server.
    await withTimeout(agent.ping(fx.t.domain), 3000, 'stanza.js ping'); // rejects on an error reply

    const disconnected = new Promise((resolve) => agent.once('disconnected', resolve));
    agent.disconnect();
    await withTimeout(disconnected, 3000, 'stanza.js disconnect');
    await alice.stop();
  });
});
