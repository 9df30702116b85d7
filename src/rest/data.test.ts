// /data custom objects through the real REST app (inject) and SQLite: the parts the SDK test does
// not reach — application sessions, API keys, classes made by first use, multi and by_criteria
// shapes, grouping and projection, and the bounds every query is held to.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import qs from 'qs';
import { DataService, AUTO_CREATE_SETTING } from '../custom-objects/service.js';
import { parseFieldList } from '../custom-objects/fields.js';
import { createApiKey } from '../cli/platform.js';
import type { User } from '../storage/types.js';
import { dataRoutes } from './data.js';
import { PASSWORD, restHarness, type RestHarness } from './harness.js';

const form = (token: string, data: Record<string, unknown>) => ({
  payload: qs.stringify(data, { encodeValuesOnly: true }),
  headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', 'qb-token': token },
});

describe('REST /data', () => {
  let h: RestHarness;
  let ann: User;
  let bob: User;
  let annToken: string;
  let bobToken: string;
  let appToken: string;

  before(async () => {
    h = await restHarness({}, { plugins: [dataRoutes] });
    ann = await h.newUser();
    bob = await h.newUser();
    annToken = await h.session({ login: ann.login, password: PASSWORD });
    bobToken = await h.session({ login: bob.login, password: PASSWORD });
    appToken = await h.session();
    await new DataService(h.store).createClass(h.application.id, 'Place', parseFieldList('name:String,rank:Integer,rating:Float,open:Boolean,at:Location,kinds:String_a'));
  });
  after(() => h?.close());

  const as = (token: string) => ({ 'qb-token': token });
  const post = (token: string, url: string, payload: unknown) => h.request({ method: 'POST', url, headers: as(token), payload: payload as object });
  const get = (token: string, url: string) => h.request({ method: 'GET', url, headers: as(token) });

  it('reads with an application session but never writes', async () => {
    const created = await post(annToken, '/data/Place.json', { name: 'cafe', rank: 1 });
    assert.equal(created.statusCode, 201);
    const list = await get(appToken, '/data/Place.json?name=cafe');
    assert.deepEqual(list.json().items.map((r: { name: string }) => r.name), ['cafe']);
    const refused = await post(appToken, '/data/Place.json', { name: 'nope' });
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(refused.json(), { errors: ['An application session can only read records'] });
    const none = await h.request({ method: 'GET', url: '/data/Place.json' });
    assert.equal(none.statusCode, 401);
  });

  it('answers API keys: the whole application without On-Behalf-Of, that user with it, nobody once revoked', async () => {
    const { id, key } = await createApiKey(h.store, h.application.id);
    const auth = { authorization: `ApiKey ${key}` };
    const secret = await post(ann.id ? annToken : '', '/data/Place.json', { name: 'hidden', permissions: { read: { access: 'owner' } } });
    const hiddenId = secret.json()._id;

    const asApp = await h.request({ method: 'GET', url: `/data/Place/${hiddenId}.json`, headers: auth });
    assert.equal(asApp.statusCode, 200);
    assert.equal(asApp.json().items[0].name, 'hidden', 'an API key alone reads every record');
    assert.equal(asApp.headers['qb-token-expirationdate'], undefined);

    const asBob = await h.request({ method: 'GET', url: `/data/Place/${hiddenId}.json`, headers: { ...auth, 'on-behalf-of': String(bob.id) } });
    assert.deepEqual(asBob.json().not_found, { ids: [hiddenId] });
    const made = await h.request({ method: 'POST', url: '/data/Place.json', headers: { ...auth, 'on-behalf-of': String(bob.id) }, payload: { name: 'by bob' } });
    assert.equal(made.statusCode, 201);
    assert.equal(made.json().user_id, bob.id);

    const deleted = await h.request({ method: 'DELETE', url: `/data/Place/${hiddenId}.json`, headers: auth });
    assert.equal(deleted.statusCode, 200);

    const unknownUser = await h.request({ method: 'GET', url: '/data/Place.json', headers: { ...auth, 'on-behalf-of': '999999' } });
    assert.equal(unknownUser.statusCode, 401);
    assert.deepEqual(unknownUser.json(), { errors: ['The On-Behalf-Of user does not exist'] });
    const wrong = await h.request({ method: 'GET', url: '/data/Place.json', headers: { authorization: 'ApiKey pk_wrong' } });
    assert.equal(wrong.statusCode, 401);
    assert.deepEqual(wrong.json(), { errors: ['Unauthorized'] });

    const other = await h.store.accounts.createApplication({});
    const otherKey = await createApiKey(h.store, other.id);
    const foreign = await h.request({ method: 'GET', url: '/data/Place.json', headers: { authorization: `ApiKey ${otherKey.key}` } });
    assert.equal(foreign.statusCode, 404, "another application's key does not see this application's classes");

    assert.equal(await h.store.apiKeys.revokeKey(h.application.id, id, new Date()), true);
    const revoked = await h.request({ method: 'GET', url: '/data/Place.json', headers: auth });
    assert.equal(revoked.statusCode, 401);
  });

  it('acts on behalf of a user on the other routes too', async () => {
    const { key } = await createApiKey(h.store, h.application.id);
    const me = await h.request({ method: 'GET', url: `/users/${ann.id}.json`, headers: { authorization: `ApiKey ${key}`, 'on-behalf-of': String(ann.id) } });
    assert.equal(me.statusCode, 200);
    const noUser = await h.request({ method: 'GET', url: `/users/${ann.id}.json`, headers: { authorization: `ApiKey ${key}` } });
    assert.equal(noUser.statusCode, 200, 'a valid key is a session of the application');
  });

  it('creates a class by first use only when the application allows it', async () => {
    const refused = await post(annToken, '/data/Visit.json', { where: 'home', count: 2 });
    assert.equal(refused.statusCode, 404);
    assert.deepEqual(refused.json(), { errors: ['Class not found'] });
    await h.store.appSettings.set(h.application.id, AUTO_CREATE_SETTING, true);
    const made = await h.request({ method: 'POST', url: '/data/Visit.json', ...form(annToken, { where: 'home', times: '2', rate: '0.5', tags: ['a', 'b'] }) });
    assert.equal(made.statusCode, 201, made.body);
    const cls = await h.store.customObjects.getClass(h.application.id, 'Visit');
    assert.deepEqual(cls?.fields.map((f) => `${f.name}:${f.type}${f.isArray ? '_a' : ''}`), ['where:String', 'times:Integer', 'rate:Float', 'tags:String_a']);
    const grown = await post(annToken, '/data/Visit.json', { where: 'work', late: true });
    assert.equal(grown.json().late, true);
    await h.store.appSettings.set(h.application.id, AUTO_CREATE_SETTING, undefined);
    const unknown = await post(annToken, '/data/Visit.json', { other: 1 });
    assert.equal(unknown.statusCode, 422);
    assert.deepEqual(unknown.json(), { errors: { other: ['is not a field of class Visit'] } });
  });

  it('creates and updates many records with the multi shapes, and updates by criteria', async () => {
    const multi = await h.request({ method: 'POST', url: '/data/Place/multi.json', ...form(bobToken, { record: { 0: { name: 'm1', rank: '5' }, 1: { name: 'm2', rank: '6' } } }) });
    assert.equal(multi.statusCode, 201, multi.body);
    const items = multi.json().items as { _id: string; rank: number }[];
    assert.deepEqual(items.map((r) => r.rank), [5, 6]);
    const allOrNothing = await post(bobToken, '/data/Place/multi.json', { record: { 0: { name: 'ok' }, 1: { rank: 'x' } } });
    assert.equal(allOrNothing.statusCode, 422);
    assert.equal((await get(bobToken, '/data/Place.json?name=ok')).json().items.length, 0);

    const missing = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    const upd = await h.request({ method: 'PUT', url: '/data/Place/multi.json', headers: as(bobToken), payload: { record: { 0: { _id: items[0]._id, rank: 50 }, 1: { _id: missing, rank: 1 } } } });
    const updated = upd.json() as { items: { rank: number }[] };
    assert.deepEqual({ ...updated, items: updated.items.map((r) => r.rank) }, { class_name: 'Place', not_found: { ids: [missing] }, items: [50] });

    const crit = await h.request({ method: 'PUT', url: '/data/Place/by_criteria.json', headers: as(bobToken), payload: { search_criteria: { rank: { gte: 6 } }, inc: { rank: 1 } } });
    assert.equal(crit.statusCode, 200, crit.body);
    assert.equal(crit.json().total_found, 2);
    assert.deepEqual(crit.json().items.map((r: { rank: number }) => r.rank).sort(), [51, 7]);
    const annCrit = await h.request({ method: 'PUT', url: '/data/Place/by_criteria.json', headers: as(annToken), payload: { search_criteria: { name: 'm1' }, rank: 0 } });
    assert.equal(annCrit.json().total_found, 0, "only records the caller may update");
  });

  it('filters near a point, projects, groups, and takes the last record', async () => {
    await post(annToken, '/data/Place.json', { name: 'eiffel', at: '2.2945, 48.8584', rating: 4.5, kinds: ['tower'] });
    await post(annToken, '/data/Place.json', { name: 'louvre', at: [2.3376, 48.8606], rating: 4.5, kinds: ['museum'] });
    await post(annToken, '/data/Place.json', { name: 'berlin', at: '13.40, 52.52', rating: 3 });
    const near = await get(annToken, '/data/Place.json?at[near]=2.2945,48.8584;10000&output[include]=name,at');
    assert.deepEqual(near.json().items, [{ _id: near.json().items[0]._id, name: 'eiffel', at: [2.2945, 48.8584] }, { _id: near.json().items[1]._id, name: 'louvre', at: [2.3376, 48.8606] }]);
    const grouped = await get(annToken, '/data/Place.json?group_by=rating&calc[rank]=count&rating[gte]=3');
    assert.deepEqual(grouped.json().items.map((g: { rating: number; count: number }) => [g.rating, g.count]), [[3, 1], [4.5, 2]]);
    const last = await get(annToken, '/data/Place.json?limit=-1');
    assert.equal(last.json().items[0].name, 'berlin');
    assert.equal(last.json().limit, -1);
  });

  it('answers bad input in QuickBlox shapes and bounds every list', async () => {
    const cases: [string, number, unknown][] = [
      ['/data/Place.json?rank[gt]=abc', 400, { errors: { base: ['Incorrect format for parameter "rank".'] } }],
      ['/data/Place.json?rank[regex]=1', 400, { errors: { base: ['Incorrect format for parameter "rank[regex]".'] } }],
      ['/data/Place.json?name[in]=' + Array.from({ length: 101 }, (_, i) => `n${i}`).join(','), 400, { errors: { base: ['Parameter "name[in]" takes at most 100 values.'] } }],
      ['/data/Place.json?sort_desc=kinds', 400, { errors: { base: ['Incorrect format for parameter "sort_desc".'] } }],
      ['/data/Place.json?limit=abc', 400, { errors: { base: ['Incorrect format for parameter "limit".'] } }],
      ['/data/Place.json?at[near]=500,1;10', 400, { errors: { base: ['Incorrect format for parameter "at[near]".'] } }],
      ['/data/Bad%20Name.json', 404, { errors: ['Class not found'] }],
      ['/data/Place/' + Array.from({ length: 101 }, (_, i) => `x${i}`).join(',') + '.json', 400, { errors: { base: ['At most 100 ids at once.'] } }],
    ];
    for (const [url, status, body] of cases) {
      const res = await get(annToken, url);
      assert.equal(res.statusCode, status, url);
      assert.deepEqual(res.json(), body, url);
    }
    const hundred = await get(annToken, `/data/Place/${Array.from({ length: 100 }, () => 'aaaaaaaaaaaaaaaaaaaaaaaa').join(',')}.json`);
    assert.equal(hundred.statusCode, 200, 'a path takes 100 ids');
    const repeated = await get(annToken, '/data/Place.json?rank[gt]=1&rank[gt]=2');
    assert.equal(repeated.statusCode, 400, 'one value per operator');
    const ops = ['lt', 'lte', 'gt', 'gte', 'ne', 'in', 'nin'];
    const conditions = [
      ...['rank', 'rating', 'user_id', 'created_at', 'updated_at'].flatMap((f) => ops.map((op) => `${f}[${op}]=1`)),
      ...[...ops, 'ctn'].map((op) => `name[${op}]=a`), ...[...ops, 'all', 'ctn'].map((op) => `kinds[${op}]=a`),
    ];
    assert.ok(conditions.length > 50);
    const tooMany = await get(annToken, `/data/Place.json?${conditions.join('&')}`);
    assert.deepEqual(tooMany.json(), { errors: { base: ['A query takes at most 50 conditions.'] } });
    assert.equal((await get(annToken, `/data/Place.json?${conditions.slice(0, 50).join('&')}`)).statusCode, 200);
    const bigLimit = await get(annToken, '/data/Place.json?limit=100000');
    assert.equal(bigLimit.json().limit, 1000);
    const badPerm = await post(annToken, '/data/Place.json', { name: 'x', permissions: { read: { access: 'everyone' } } });
    assert.equal(badPerm.statusCode, 422);
    assert.deepEqual(Object.keys(badPerm.json().errors), ['permissions.read']);
    const badDate = await post(annToken, '/data/Place.json', { name: 'x', rank: 1.5 });
    assert.deepEqual(badDate.json(), { errors: { rank: ['is invalid'] } });
    const badPop = await h.request({ method: 'PUT', url: `/data/Place/${(await post(annToken, '/data/Place.json', { name: 'p' })).json()._id}.json`, headers: as(annToken), payload: { pop: { kinds: 2 } } });
    assert.equal(badPop.statusCode, 422);
  });
});
