// Authentication (SASL PLAIN and SCRAM) and resource conflicts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { rawClient, stopClient, withBody, xml } from './support/clients.js';
import { plainAuth, type RawClient } from './support/raw.js';
import { withTimeout } from './support/wait.js';

const SASL_RESULT = /<(success|failure)[^>]*(\/>|>[\s\S]*?<\/\1>)/;

describe('authentication', () => {
  const fx = useServer();

  // (Not over xmpps://: there @xmpp/client 0.14 leaks an unhandled rejection of the SASLError next
  // to rejecting start(), which node:test counts as a failure.)
  for (const [transport, mechanism] of [['tcp', 'SCRAM-SHA-1'], ['ws', 'SCRAM-SHA-1'], ['tcp', 'PLAIN']] as const) {
    it(`a wrong password fails with not-authorized (@xmpp/client, ${mechanism}, ${transport})`, async () => {
      const alice = await fx.t.createUser();
      const xmpp = fx.pool.track(rawClient(fx.t, alice, { transport, mechanism, password: 'wrong' }));
      xmpp.on('error', () => {});
      const err: any = await withTimeout(xmpp.start().then(() => null, (e: any) => e), 5000, 'start');
      assert.ok(err, 'start() rejects');
      assert.equal(err.name, 'SASLError');
      assert.equal(err.condition, 'not-authorized');
      await stopClient(xmpp);
    });
  }

  it('SCRAM-SHA-1 with the right password logs in (@xmpp/client)', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser(), { mechanism: 'SCRAM-SHA-1', presence: false });
    await alice.ping();
    await alice.stop();
  });

  it('an unknown user fails with not-authorized', async () => {
    const xmpp = fx.pool.track(rawClient(fx.t, { username: `999999-${fx.t.app.id}`, password: 'whatever' }, { mechanism: 'SCRAM-SHA-1' }));
    xmpp.on('error', () => {});
    const err: any = await withTimeout(xmpp.start().then(() => null, (e: any) => e), 5000, 'start');
    assert.equal(err?.condition, 'not-authorized');
    await stopClient(xmpp);
  });

  const plain = async (authzid: string, authcid: string, password: string): Promise<{ raw: RawClient; result: string }> => {
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    const features = await raw.open();
    assert.match(features, /<mechanism>PLAIN<\/mechanism>/);
    raw.send(plainAuth(authzid, authcid, password));
    return { raw, result: await raw.expect(SASL_RESULT) };
  };

  it('PLAIN with the right password succeeds and the stream restarts into binding', async () => {
    const alice = await fx.t.createUser();
    const { raw, result } = await plain('', alice.username, alice.password);
    assert.match(result, /^<success/);
    const features = await raw.open();
    assert.match(features, /<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/);
    assert.doesNotMatch(features, /<mechanisms/);
    raw.destroy();
  });

  it('PLAIN with the user bare JID as authcid succeeds', async () => {
    const alice = await fx.t.createUser();
    const { raw, result } = await plain('', alice.jid, alice.password);
    assert.match(result, /^<success/);
    raw.destroy();
  });

  it('PLAIN with a wrong password fails with not-authorized, and the stream stays usable', async () => {
    const alice = await fx.t.createUser();
    const { raw, result } = await plain('', alice.username, 'nope');
    assert.match(result, /^<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"[^>]*>\s*<not-authorized\/>/);
    raw.send(plainAuth('', alice.username, alice.password));
    assert.match(await raw.expect(SASL_RESULT), /^<success/, 'a retry on the same stream works');
    raw.destroy();
  });

  it('PLAIN with an authzid naming the same account succeeds', async () => {
    const alice = await fx.t.createUser();
    const { raw, result } = await plain(`${alice.username}@localhost`, alice.username, alice.password);
    assert.match(result, /^<success/);
    raw.destroy();
  });

  it("PLAIN with another user's authzid fails with invalid-authzid", async () => {
    const alice = await fx.t.createUser();
    const bob = await fx.t.createUser();
    const { raw, result } = await plain(`${bob.username}@localhost`, alice.username, alice.password);
    assert.match(result, /^<failure[^>]*>\s*<invalid-authzid\/>/);
    raw.destroy();
  });

  it('PLAIN that is not base64 fails with incorrect-encoding; an unknown mechanism with invalid-mechanism', async () => {
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    await raw.open();
    raw.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">***</auth>');
    assert.match(await raw.expect(SASL_RESULT), /<incorrect-encoding\/>/);
    raw.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-MAGIC">AA==</auth>');
    assert.match(await raw.expect(SASL_RESULT), /<invalid-mechanism\/>/);
    raw.destroy();
  });

  it('a second login with the same resource replaces the first with a conflict stream error', async () => {
    const alice = await fx.t.createUser();
    const bob = await fx.pool.connect(await fx.t.createUser());
    const first = await fx.pool.connect(alice, { resource: 'same' });
    const disconnected = new Promise((resolve) => first.xmpp.once('disconnect', resolve));
    const second = await fx.pool.connect(alice, { resource: 'same' });
    assert.equal(second.jid, `${alice.jid}/same`);
    await withTimeout(disconnected, 3000, 'first client disconnected');
    const streamErr = first.errors.find((e) => e.name === 'StreamError');
    assert.ok(streamErr, `the first client got a stream error: ${first.errors.map(String)}`);
    assert.equal(streamErr.condition, 'conflict');
    // The second login works: it can be reached and can send.
    await bob.send(xml('message', { type: 'chat', to: second.jid }, xml('body', {}, 'to the new session')));
    assert.equal((await second.take(withBody)).getChildText('body'), 'to the new session');
    await second.send(xml('message', { type: 'chat', to: bob.user.jid }, xml('body', {}, 'from the new session')));
    const got = await bob.take(withBody);
    assert.equal(got.attrs.from, `${alice.jid}/same`);
    await second.ping();
    await Promise.all([bob.stop(), first.stop(), second.stop()]);
  });
});
