// Presence: the echo of initial presence, directed presence, and sessions that go away.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { withBody, xml, type XEl } from './support/clients.js';
import { sleep } from './support/wait.js';

const presenceFrom = (from: string, type?: string) => (el: XEl): boolean =>
  el.name === 'presence' && el.attrs.from === from && el.attrs.type === type;

describe('presence', () => {
  const fx = useServer();

  it('initial presence is echoed to the sender, with its payload', async () => {
    const bob = await fx.pool.connect(await fx.t.createUser(), { presence: false });
    await bob.send(xml('presence', {}, xml('status', {}, 'Working — ✓'), xml('priority', {}, '5')));
    const echo = await bob.take(presenceFrom(bob.jid));
    assert.equal(echo.attrs.to, bob.user.jid);
    assert.equal(echo.getChildText('status'), 'Working — ✓');
    assert.equal(echo.getChildText('priority'), '5');
    await bob.stop();
  });

  it("a user's resources see each other's presence come and go", async () => {
    const bob = await fx.t.createUser();
    const phone = await fx.pool.connect(bob, { resource: 'phone' });
    const laptop = await fx.pool.connect(bob, { resource: 'laptop' });
    await phone.take(presenceFrom(laptop.jid));
    await laptop.send(xml('presence', { type: 'unavailable' }));
    await phone.take(presenceFrom(laptop.jid, 'unavailable'));
    await laptop.send(xml('presence'));
    await phone.take(presenceFrom(laptop.jid));
    await laptop.stop(); // disconnects while available
    const gone = await phone.take(presenceFrom(laptop.jid, 'unavailable'));
    assert.equal(gone.attrs.to, bob.jid);
    await phone.stop();
  });

  it('a directed presence reaches the addressee', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser(), { presence: false });
    const bob = await fx.pool.connect(await fx.t.createUser());
    await alice.send(xml('presence', { to: bob.user.jid, from: 'forged@localhost' }, xml('status', {}, 'hi Bob')));
    const got = await bob.take(presenceFrom(alice.jid));
    assert.equal(got.getChildText('status'), 'hi Bob');
    await alice.send(xml('presence', { to: bob.jid, type: 'unavailable' }));
    await bob.take(presenceFrom(alice.jid, 'unavailable'));
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('nothing breaks when an available user disconnects, cleanly or abruptly', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    const bob = await fx.t.createUser();
    const clean = await fx.pool.connect(bob);
    await clean.stop();
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    await raw.login(bob.username, bob.password, 'abrupt');
    raw.destroy(); // no </stream:stream>
    await sleep(100);
    // The server still routes, stores offline, and accepts logins.
    await alice.send(xml('message', { type: 'chat', to: bob.jid }, xml('body', {}, 'after the disconnects')));
    await alice.ping();
    const back = await fx.pool.connect(bob);
    assert.equal((await back.take(withBody)).getChildText('body'), 'after the disconnects');
    await Promise.all([alice.stop(), back.stop()]);
  });

  it('after a resource conflict, the other resources are not told the new session is unavailable', async () => {
    const alice = await fx.t.createUser();
    const observer = await fx.pool.connect(alice, { resource: 'observer' });
    // The replaced session's connection lingers (half-open), as a dead mobile connection does.
    const old = await fx.raws.connect(fx.t.server.ports.c2s, { allowHalfOpen: true });
    const oldJid = await old.login(alice.username, alice.password, 'same');
    await observer.take(presenceFrom(oldJid));
    const replacement = await fx.pool.connect(alice, { resource: 'same' });
    await old.expect(/<stream:error[^>]*>\s*<conflict/);
    await observer.take(presenceFrom(replacement.jid));
    old.destroy(); // the old connection finally goes
    const after = await observer.inbox.drain((el) => el.name === 'presence' && el.attrs.from === replacement.jid, 300);
    assert.deepEqual(after.map(String), [], 'no presence about alice/same after the replacement came online');
    // And the replacement still receives messages.
    await observer.send(xml('message', { type: 'chat', to: replacement.jid }, xml('body', {}, 'still there?')));
    assert.equal((await replacement.take(withBody)).getChildText('body'), 'still there?');
    await Promise.all([observer.stop(), replacement.stop()]);
  });
});
