import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { client, xml } from '@xmpp/client';
import { startTestServer, type TestServer } from './support/server.js';

describe('smoke', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.stop());

  it('logs in over TCP with STARTTLS and pings', async () => {
    const alice = await t.createUser();
    const xmpp = client({ service: `xmpp://127.0.0.1:${t.server.ports.c2s}`, domain: t.domain, username: alice.username, password: alice.password });
    xmpp.on('error', () => {});
    const jid = await xmpp.start();
    assert.match(jid.toString(), new RegExp(`^${alice.jid}/`));
    const pong = await xmpp.iqCaller.request(xml('iq', { type: 'get', to: t.domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(pong.attrs.type, 'result');
    await xmpp.stop();
  });
});
