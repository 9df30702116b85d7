import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { client, xml } from '@xmpp/client';
import { useServer } from './support/fixture.js';

describe('smoke', () => {
  const fx = useServer();

  it('logs in over TCP with STARTTLS and pings', async () => {
    const alice = await fx.t.createUser();
    const xmpp = client({ service: `xmpp://127.0.0.1:${fx.t.server.ports.c2s}`, domain: fx.t.domain, username: alice.username, password: alice.password, timeout: 10_000 });
    xmpp.on('error', () => {});
    const jid = await xmpp.start();
    assert.match(jid.toString(), new RegExp(`^${alice.jid}/`));
    const pong = await xmpp.iqCaller.request(xml('iq', { type: 'get', to: fx.t.domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(pong.attrs.type, 'result');
    await xmpp.stop();
  });
});
