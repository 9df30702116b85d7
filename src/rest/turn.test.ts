// TURN credentials in coturn's shared-secret scheme, minted for a session.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { PASSWORD, restHarness, type RestHarness } from './harness.js';
import { turnRoutes } from './turn.js';

describe('TURN credentials', () => {
  let h: RestHarness;
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  before(async () => {
    h = await restHarness(
      { turn_secret: 'north', turn_ttl: 600, turn_uris: 'turn:turn.chat.test:3478?transport=udp, turns:turn.chat.test:5349?transport=tcp' },
      { plugins: [turnRoutes] },
    );
    h.deps.now = () => now;
  });
  after(() => h?.close());

  it("mints a user's credentials that coturn's check accepts", async () => {
    const user = await h.newUser();
    const token = await h.session({ login: user.login, password: PASSWORD });
    const res = await h.request({ method: 'GET', url: '/turn/credentials.json', headers: { 'qb-token': token } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    const expiry = now.getTime() / 1000 + 600;
    assert.equal(body.username, `${expiry}:${user.id}`);
    // What coturn does with use-auth-secret: the timestamp part must be in the future, the
    // password must be base64(HMAC-SHA1(static-auth-secret, username)).
    const [timestamp] = body.username.split(':');
    assert.ok(Number(timestamp) > now.getTime() / 1000);
    assert.equal(body.password, createHmac('sha1', 'north').update(body.username).digest('base64'));
    assert.equal(body.ttl, 600);
    assert.deepEqual(body.uris, ['turn:turn.chat.test:3478?transport=udp', 'turns:turn.chat.test:5349?transport=tcp']);
    assert.deepEqual(body.ice_servers, [{ urls: body.uris, username: body.username, credential: body.password }]);
  });

  it('needs a session, and answers 404 when no secret is configured', async () => {
    assert.equal((await h.request({ method: 'GET', url: '/turn/credentials.json' })).statusCode, 401);
    const app = await h.session();
    assert.match((await h.request({ method: 'GET', url: '/turn/credentials.json', headers: { 'qb-token': app } })).json().username, /:app\d+$/);
    const off = await restHarness({}, { plugins: [turnRoutes] });
    try {
      const res = await off.request({ method: 'GET', url: '/turn/credentials.json', headers: { 'qb-token': await off.session() } });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), { errors: ['TURN is not configured on this server'] });
    } finally {
      await off.close();
    }
  });
});
