import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import qs from 'qs';
import { restHarness, PASSWORD, type RestHarness } from './harness.js';

const formHeaders = (token: string) => ({ 'qb-token': token, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' });
const form = (data: Record<string, unknown>) => qs.stringify(data, { encodeValuesOnly: true });

describe('REST users', () => {
  let h: RestHarness;
  let appToken: string;
  before(async () => {
    h = await restHarness();
    appToken = await h.session();
  });
  after(() => h.close());

  const signUp = (user: Record<string, unknown>, token = appToken) =>
    h.request({ method: 'POST', url: '/users.json', headers: formHeaders(token), payload: form({ user }) });

  it('signs up with an application session and never returns the password', async () => {
    const res = await signUp({ login: 'ann_signup', password: 'longenough', email: 'ann@example.com', full_name: 'Ann Signup', tag_list: 'red,blue', custom_data: '{"x":1}', external_user_id: '9001' });
    assert.equal(res.statusCode, 201, res.body);
    const { user } = res.json();
    assert.equal(user.login, 'ann_signup');
    assert.equal(user.email, 'ann@example.com');
    assert.equal(user.full_name, 'Ann Signup');
    assert.equal(user.user_tags, 'red,blue');
    assert.equal(user.custom_data, '{"x":1}');
    assert.equal(user.external_user_id, 9001);
    assert.equal(user.password, undefined);
    assert.ok(!res.body.includes('longenough'));
    const token = await h.session({ login: 'ann_signup', password: 'longenough' });
    assert.match(token, /^[0-9a-f]{40}$/);
  });

  it('refuses a taken login or email, a short password and a blank login, creating nothing', async () => {
    await signUp({ login: 'dup_login', password: 'longenough', email: 'dup@example.com' });
    const before = (await h.store.accounts.queryUsers(h.application.id, { limit: 1000, offset: 0 })).total;
    const login = await signUp({ login: 'dup_login', password: 'longenough' });
    assert.equal(login.statusCode, 422);
    assert.equal(login.body, '{"errors":{"login":["has already been taken"]}}');
    const email = await signUp({ login: 'other_login', password: 'longenough', email: 'dup@example.com' });
    assert.deepEqual(email.json(), { errors: { email: ['has already been taken'] } });
    const short = await signUp({ login: 'short_pw', password: 'short' });
    assert.deepEqual(short.json(), { errors: { password: ['is too short (minimum is 8 characters)'] } });
    const blank = await signUp({ password: 'longenough' });
    assert.equal(blank.statusCode, 422);
    const notObject = await h.request({ method: 'POST', url: '/users.json', headers: formHeaders(appToken), payload: 'user=x' });
    assert.equal(notObject.statusCode, 400);
    assert.equal((await h.store.accounts.queryUsers(h.application.id, { limit: 1000, offset: 0 })).total, before);
  });

  it('lists with filter[], order and paging, items wrapped in "user"', async () => {
    const ids: number[] = [];
    for (const n of [1, 2, 3]) ids.push((await signUp({ login: `lister${n}`, password: 'longenough', full_name: `Lister ${n}` })).json().user.id);
    const url = `/users.json?${qs.stringify({ filter: [`number id in ${ids.join(',')}`], order: 'desc number id', per_page: 2, page: 1 }, { encodeValuesOnly: true })}`;
    const res = await h.request({ method: 'GET', url, headers: { 'qb-token': appToken } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual([body.current_page, body.per_page, body.total_entries], [1, 2, 3]);
    assert.deepEqual(body.items.map((i: { user: { id: number } }) => i.user.id), [ids[2], ids[1]]);
    const page2 = await h.request({ method: 'GET', url: url.replace('page=1', 'page=2'), headers: { 'qb-token': appToken } });
    assert.deepEqual(page2.json().items.map((i: { user: { id: number } }) => i.user.id), [ids[0]]);
    const plus = await h.request({ method: 'GET', url: `/users.json?filter[]=string+login+eq+lister2`, headers: { 'qb-token': appToken } });
    assert.deepEqual(plus.json().items.map((i: { user: { login: string } }) => i.user.login), ['lister2']);
    const bad = await h.request({ method: 'GET', url: '/users.json?filter[]=number+password+eq+1', headers: { 'qb-token': appToken } });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json().errors.filter);
  });

  it('finds users by login, email, full name, tags and external id', async () => {
    const { user } = (await signUp({ login: 'findme', password: 'longenough', email: 'findme@example.com', full_name: 'Zed Findable', tag_list: 'green', external_user_id: '424242' })).json();
    const get = (url: string) => h.request({ method: 'GET', url, headers: { 'qb-token': appToken } });
    assert.equal((await get('/users/by_login.json?login=findme')).json().user.id, user.id);
    assert.equal((await get('/users/by_email.json?email=findme@example.com')).json().user.id, user.id);
    assert.equal((await get('/users/external/424242.json')).json().user.id, user.id);
    assert.equal((await get(`/users/${user.id}.json`)).json().user.login, 'findme');
    assert.deepEqual((await get('/users/by_full_name.json?full_name=findable')).json().items.map((i: { user: { id: number } }) => i.user.id), [user.id]);
    assert.deepEqual((await get('/users/by_tags.json?tags=green,nothing')).json().items.map((i: { user: { id: number } }) => i.user.id), [user.id]);
    assert.equal((await get('/users/by_login.json?login=nobody-here')).statusCode, 404);
    assert.equal((await get('/users/abc.json')).statusCode, 404);
    assert.equal((await get('/users/99999999.json')).statusCode, 404);
  });

  it('updates and deletes only oneself; a password change needs the old password', async () => {
    const mine = await h.newUser('self_editor');
    const other = await h.newUser('someone_else');
    const token = await h.session({ login: mine.login, password: PASSWORD });
    const put = (id: number, user: Record<string, unknown>) =>
      h.request({ method: 'PUT', url: `/users/${id}.json`, headers: { 'qb-token': token }, payload: { user } });
    const ok = await put(mine.id, { full_name: 'New Name', website: 'https://me.example' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().user.full_name, 'New Name');
    assert.equal((await put(other.id, { full_name: 'Hacked' })).statusCode, 403);
    assert.equal((await h.store.accounts.getUser(h.application.id, other.id))!.fullName, null);
    const noOld = await put(mine.id, { password: 'brand-new-pass' });
    assert.deepEqual(noOld.json(), { errors: { old_password: ['is incorrect'] } });
    assert.equal((await put(mine.id, { password: 'brand-new-pass', old_password: PASSWORD })).statusCode, 200);
    assert.equal(await h.store.accounts.verifyPassword(h.application.id, mine.id, 'brand-new-pass'), true);
    const appOnly = await h.request({ method: 'PUT', url: `/users/${mine.id}.json`, headers: { 'qb-token': appToken }, payload: { user: { full_name: 'x' } } });
    assert.equal(appOnly.statusCode, 422);
    assert.equal((await h.request({ method: 'DELETE', url: `/users/${other.id}.json`, headers: { 'qb-token': token } })).statusCode, 403);
    const del = await h.request({ method: 'DELETE', url: `/users/${mine.id}.json`, headers: { 'qb-token': token } });
    assert.equal(del.statusCode, 200);
    assert.equal(del.body, '');
    assert.equal(await h.store.accounts.getUser(h.application.id, mine.id), null);
    assert.ok(await h.store.accounts.getUser(h.application.id, other.id));
  });
});
