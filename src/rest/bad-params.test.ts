// Hostile parameters get QuickBlox-shaped 4xx answers: control and bidi characters in logins, list
// filters with thousands of values, URLs that do not decode.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { restHarness, PASSWORD, type RestHarness } from './harness.js';
import { chatRoutes } from './chat.js';

describe('REST bad parameters', () => {
  let h: RestHarness;
  let appToken = '';
  let userToken = '';
  before(async () => {
    h = await restHarness({}, { plugins: [chatRoutes] });
    appToken = await h.session();
    const user = await h.newUser();
    userToken = await h.session({ login: user.login, password: PASSWORD });
  });
  after(() => h.close());

  const signUp = (user: Record<string, unknown>) =>
    h.request({ method: 'POST', url: '/users.json', headers: { 'qb-token': appToken, 'content-type': 'application/json' }, payload: { user } });

  it('refuses logins with NUL, other controls or bidi overrides with a 422', async () => {
    for (const login of ['ann\u0000admin', 'ann\u001b[31m', 'ann\u202egnp.exe', 'ann\u2066x', 'ann\u200fx', 'ann\u0085x']) {
      const res = await signUp({ login, password: 'longenough' });
      assert.equal(res.statusCode, 422, JSON.stringify(login));
      assert.equal(res.body, '{"errors":{"login":["contains invalid characters"]}}');
    }
    assert.equal((await signUp({ login: 'ann_ok_ünïcode', password: 'longenough' })).statusCode, 201);
    const email = await signUp({ login: 'ann_mail', password: 'longenough', email: 'ann\u0000@example.com' });
    assert.deepEqual(email.json(), { errors: { email: ['is invalid'] } });
  });

  it('answers a list filter of 5,000 values with 422, not 500', async () => {
    for (const op of ['all', 'in', 'nin']) {
      // Short values, so that the URL stays under Node's 16 KB header limit as a real client's would.
      const list = await h.request({ method: 'GET', url: `/chat/Dialog.json?occupants_ids[${op}]=${'1,'.repeat(5000)}1`, headers: { 'qb-token': userToken } });
      assert.equal(list.statusCode, 422, `${op}: ${list.body.slice(0, 200)}`);
      assert.deepEqual(list.json(), { errors: { occupants_ids: ['has too many values (maximum is 1000)'] } });
    }
    const users = await h.request({ method: 'GET', url: `/users.json?filter[]=number+id+in+${'1,'.repeat(5000)}1`, headers: { 'qb-token': appToken } });
    assert.equal(users.statusCode, 422);
    const fine = await h.request({ method: 'GET', url: `/chat/Dialog.json?occupants_ids[all]=${Array.from({ length: 1000 }, (_, i) => i + 1).join(',')}`, headers: { 'qb-token': userToken } });
    assert.equal(fine.statusCode, 200, fine.body.slice(0, 200));
  });

  it('answers a URL that does not decode in QuickBlox\'s error shape', async () => {
    const res = await h.request({ method: 'GET', url: '/users/%E0%A4%A.json', headers: { 'qb-token': appToken } });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { errors: { base: ['The URL is not valid'] } });
  });
});
