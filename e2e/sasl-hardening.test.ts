// SASL under attack (issue 14, items 5 and 7): a flood of unauthenticated attempts does not stall
// other clients (no key derivation on the event loop: token SCRAM keys are stored when the token is
// minted), every attempt counts (aborts and restarts included), and the failure limiter is keyed by
// account and address, so one user guessing wrong behind a NAT does not lock out the others.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { NS_SASL, b64, plainAuth, type RawClient } from './support/raw.js';
import { restSession } from './support/rest.js';
import type { TestUser } from './support/server.js';
import { sleep } from './support/wait.js';

const FAILURES = 3;
const SASL_RESULT = /<(success|failure)[^>]*(\/>|>[\s\S]*?<\/\1>)/;
const scramFirst = (username: string, n: number) => `<auth xmlns="${NS_SASL}" mechanism="SCRAM-SHA-1">${b64(`n,,n=${username},r=flood${n}`)}</auth>`;

describe('SASL hardening', () => {
  const fx = useServer({ overrides: { auth_failures_per_minute: FAILURES } });

  const opened = async (): Promise<RawClient> => {
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    await raw.open();
    return raw;
  };
  /** One PLAIN attempt on a fresh stream: 'success' or the failure condition. */
  const plain = async (user: TestUser, password: string): Promise<string> => {
    const raw = await opened();
    raw.send(plainAuth('', user.username, password));
    const result = await raw.expect(SASL_RESULT, 10_000);
    raw.destroy();
    return result.startsWith('<success') ? 'success' : /<failure[^>]*><([a-z-]+)/.exec(result)![1]!;
  };

  it('300 SCRAM attempts in one write for a user with live tokens do not stall another client', async () => {
    const victim = await fx.t.createUser();
    for (let i = 0; i < 5; i++) await restSession(fx.t, { login: victim.login, password: victim.password });
    const bystander = await fx.pool.connect(await fx.t.createUser(), { presence: false });
    await bystander.ping();

    const attacker = await opened();
    const started = Date.now();
    attacker.send(Array.from({ length: 300 }, (_, i) => scramFirst(victim.username, i)).join(''));
    let worst = 0;
    while (Date.now() - started < 3000) {
      const t0 = performance.now();
      await bystander.ping();
      worst = Math.max(worst, performance.now() - t0);
      await sleep(5);
    }
    console.log(`# worst ping round trip during the flood: ${worst.toFixed(1)} ms`);
    assert.ok(worst < 750, `a ping took ${worst.toFixed(0)} ms during the flood`);
    // Every <auth> counted: the stream did not get to run 300 of them.
    await attacker.waitClosed(10_000);
    assert.ok((attacker.received.match(/<challenge/g) ?? []).length <= 10, 'at most 10 attempts on one stream');
    await bystander.stop();
  });

  it('failures of one user behind an address do not lock out another user there', async () => {
    const [guesser, neighbour] = [await fx.t.createUser(), await fx.t.createUser()];
    for (let i = 0; i < FAILURES; i++) assert.equal(await plain(guesser, 'wrong'), 'not-authorized');
    assert.equal(await plain(guesser, guesser.password), 'temporary-auth-failure', 'the guessed account is locked from this address');
    assert.equal(await plain(neighbour, neighbour.password), 'success', 'another account from the same address is not');
  });

  it('aborts and restarts count as failed attempts', async () => {
    const user = await fx.t.createUser();
    const raw = await opened();
    raw.send(scramFirst(user.username, 1));
    await raw.expect(/<challenge/);
    raw.send(`<abort xmlns="${NS_SASL}"/>`);
    await raw.expect(/<failure[^>]*><aborted/);
    raw.send(scramFirst(user.username, 2));
    await raw.expect(/<challenge/);
    // A new <auth> in the middle of an exchange abandons it: a second failure.
    raw.send(scramFirst(user.username, 3));
    await raw.expect(/<challenge/);
    raw.send(`<abort xmlns="${NS_SASL}"/>`);
    await raw.expect(/<failure[^>]*><aborted/);
    raw.destroy();
    assert.equal(await plain(user, user.password), 'temporary-auth-failure');
  });
});
