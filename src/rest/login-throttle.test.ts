// REST password guessing is throttled per account and per client address (QuickBlox's 429), and
// X-Forwarded-For names the client only when it comes from a configured trusted proxy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metrics } from '../metrics/index.js';
import { restHarness, signedSessionParams, PASSWORD, type RestHarness } from './harness.js';

const throttledRest = async (): Promise<number> =>
  (await metrics.authThrottled.get()).values.find((v) => v.labels.via === 'rest')?.value ?? 0;

const TOO_MANY = '{"errors":{"base":["Too Many Requests"]}}';

describe('REST sign-in throttling', () => {
  let h: RestHarness;
  before(async () => {
    h = await restHarness({ login_failures_per_account: 5, login_failures_per_ip: 12, login_failure_window: 60 });
  });
  after(() => h.close());

  const signIn = (login: string, password: string, remoteAddress = '127.0.0.1', headers: Record<string, string> = {}) =>
    h.request({ method: 'POST', url: '/session.json', remoteAddress, headers, payload: signedSessionParams(h.application, { user: { login, password } }) });

  it('after 5 wrong passwords for one account, every attempt on it is a 429 (the right password too), from any address', async () => {
    const victim = await h.newUser();
    for (let i = 0; i < 5; i++) assert.equal((await signIn(victim.login, `wrong${i}`, '10.0.0.1')).statusCode, 401);
    const throttledBefore = await throttledRest();
    const blocked = await signIn(victim.login, 'wrong-again', '10.0.0.1');
    assert.equal(blocked.statusCode, 429);
    assert.equal(blocked.body, TOO_MANY);
    assert.ok(Number(blocked.headers['retry-after']) >= 1);
    assert.equal(await throttledRest(), throttledBefore + 1, 'parley_auth_throttled_total{via="rest"} counts the refusal');
    assert.equal((await signIn(victim.login, PASSWORD, '10.0.0.2')).statusCode, 429, 'the account is locked for every address');
    assert.equal((await signIn(victim.login.toUpperCase(), PASSWORD, '10.0.0.3')).statusCode, 429, 'case does not make another account');
    const other = await h.newUser();
    assert.equal((await signIn(other.login, PASSWORD, '10.0.0.1')).statusCode, 201, 'other accounts are not affected');
  });

  it('POST /login.json counts against the same allowance', async () => {
    const victim = await h.newUser();
    const appToken = await h.session();
    const login = (password: string) => h.request({
      method: 'POST', url: '/login.json', remoteAddress: '10.1.0.1', headers: { 'qb-token': appToken }, payload: { login: victim.login, password },
    });
    for (let i = 0; i < 5; i++) assert.equal((await login(`nope${i}`)).statusCode, 401);
    const res = await login(PASSWORD);
    assert.equal(res.statusCode, 429);
    assert.equal(res.body, TOO_MANY);
  });

  it('a success clears the account count', async () => {
    const user = await h.newUser();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) assert.equal((await signIn(user.login, 'bad', `10.2.0.${round}`)).statusCode, 401);
      assert.equal((await signIn(user.login, PASSWORD, `10.2.0.${round}`)).statusCode, 201);
    }
  });

  it('one address guessing many accounts is stopped after 12 failures; another address is not', async () => {
    const users = await Promise.all(Array.from({ length: 13 }, () => h.newUser()));
    for (let i = 0; i < 12; i++) assert.equal((await signIn(users[i].login, 'bad', '10.3.0.1')).statusCode, 401);
    assert.equal((await signIn(users[12].login, 'bad', '10.3.0.1')).statusCode, 429);
    assert.equal((await signIn(users[12].login, PASSWORD, '10.3.0.1')).statusCode, 429);
    assert.equal((await signIn(users[12].login, PASSWORD, '10.3.0.2')).statusCode, 201);
  });

  it('without trusted_proxies, X-Forwarded-For is ignored: a guesser cannot pose as many clients', async () => {
    const users = await Promise.all(Array.from({ length: 13 }, () => h.newUser()));
    for (let i = 0; i < 12; i++) {
      assert.equal((await signIn(users[i].login, 'bad', '10.4.0.1', { 'x-forwarded-for': `192.0.2.${i}` })).statusCode, 401);
    }
    assert.equal((await signIn(users[12].login, PASSWORD, '10.4.0.1', { 'x-forwarded-for': '192.0.2.200' })).statusCode, 429);
  });
});

describe('REST behind a trusted proxy', () => {
  let h: RestHarness;
  before(async () => {
    h = await restHarness({ login_failures_per_account: 50, login_failures_per_ip: 3, login_failure_window: 60, trusted_proxies: '10.9.0.0/16, ::1' });
  });
  after(() => h.close());

  const signIn = (login: string, password: string, remoteAddress: string, forwardedFor?: string) =>
    h.request({
      method: 'POST', url: '/session.json', remoteAddress,
      headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
      payload: signedSessionParams(h.application, { user: { login, password } }),
    });

  it('counts each client named by the proxy separately, and the proxy itself is never locked out', async () => {
    const user = await h.newUser();
    for (let i = 0; i < 3; i++) assert.equal((await signIn(user.login, 'bad', '10.9.0.5', '198.51.100.7')).statusCode, 401);
    assert.equal((await signIn(user.login, PASSWORD, '10.9.0.5', '198.51.100.7')).statusCode, 429, 'the guessing client is stopped');
    assert.equal((await signIn(user.login, PASSWORD, '10.9.0.5', '198.51.100.8')).statusCode, 201, 'another client behind the same proxy is not');
  });

  it('an untrusted peer cannot choose its address with the header', async () => {
    const user = await h.newUser();
    for (let i = 0; i < 3; i++) assert.equal((await signIn(user.login, 'bad', '203.0.113.9', `198.51.100.${50 + i}`)).statusCode, 401);
    assert.equal((await signIn(user.login, PASSWORD, '203.0.113.9', '198.51.100.99')).statusCode, 429);
  });
});
