// One sender cannot fill a user's offline store (issue 14, "Also"): past offline_limit_per_sender
// its messages bounce, while other senders' messages are still stored and delivered.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';

describe('offline store: per-sender share', () => {
  const fx = useServer({ overrides: { offline_limit: 10, offline_limit_per_sender: 3 } });

  it('the fourth message of one sender bounces; another sender still gets through', async () => {
    const [mallory, alice, bob] = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const m = await fx.raws.connect(fx.t.server.ports.c2s);
    await m.login(mallory.username, mallory.password);
    for (let i = 1; i <= 4; i++) m.send(`<message type="chat" to="${bob.jid}" id="m${i}"><body>spam ${i}</body></message>`);
    const bounce = await m.expect(/<message[^>]*type="error"[\s\S]*?<\/message>/, 5000);
    assert.match(bounce, /id="m4"/);
    assert.match(bounce, /<service-unavailable /);
    const a = await fx.raws.connect(fx.t.server.ports.c2s);
    await a.login(alice.username, alice.password);
    a.send(`<message type="chat" to="${bob.jid}" id="a1"><body>hello from alice</body></message>`);
    a.send('<iq type="get" id="p"><ping xmlns="urn:xmpp:ping"/></iq>');
    await a.expect(/id="p"/);
    assert.doesNotMatch(a.received, /type="error"/);

    const b = await fx.raws.connect(fx.t.server.ports.c2s);
    await b.login(bob.username, bob.password);
    await b.expect('hello from alice', 5000);
    for (let i = 1; i <= 3; i++) assert.match(b.received, new RegExp(`spam ${i}<`));
    assert.doesNotMatch(b.received, /spam 4</);
    for (const c of [m, a, b]) c.destroy();
  });
});
