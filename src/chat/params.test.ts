import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'qs';
import { ApiError } from './errors.js';
import {
  parseBoolean, parseDataFilters, parseFilters, parseInteger, parseList, parseNumber, parseObject, parsePaging, parseSort, parseUserIds,
} from './params.js';
import { stripXmlInvalid } from './text.js';

const badRequest = (text: string) => (err: unknown) => err instanceof ApiError && err.status === 400 && err.message === text;

describe('parameter conventions', () => {
  it('reads id lists in every shape clients send', () => {
    assert.deepEqual(parseList('1, 2,3 ,'), ['1', '2', '3']);
    assert.deepEqual(parseList('[1, "2"]'), ['1', '2']);
    assert.deepEqual(parseList([1, '2, 3']), ['1', '2', '3']);
    assert.deepEqual(parseList({ 1: 'b', 0: 'a', 10: 'c' }), ['a', 'b', 'c']);
    assert.deepEqual(parseList(7), ['7']);
    assert.deepEqual(parseList(''), []);
    assert.equal(parseList(undefined), undefined);
    assert.deepEqual(parse('occupants_ids[]=1%2C%202&x=1').occupants_ids, ['1, 2']);
    assert.deepEqual(parseUserIds(parse('occupants_ids[]=1%2C%202').occupants_ids, 'occupants_ids'), [1, 2]);
    assert.deepEqual(parseUserIds(parse('a=3&a=4&a=3').a, 'a'), [3, 4]);
    assert.deepEqual(parseUserIds(parse('a[0]=5&a[1]=6').a, 'a'), [5, 6]);
    assert.deepEqual(parseUserIds('10, 20', 'a'), [10, 20]);
    assert.deepEqual(parseUserIds([30], 'a'), [30]);
    assert.equal(parseUserIds(undefined, 'a'), undefined);
  });

  it('refuses id lists that are not positive integers', () => {
    for (const bad of ['1,x', '1.5', '-3', '0', [true], { a: 1 }, true]) {
      assert.throws(() => parseUserIds(bad, 'admin_ids'), badRequest('Incorrect format for parameter "admin_ids".'), JSON.stringify(bad));
    }
  });

  it('reads numbers and booleans leniently', () => {
    assert.equal(parseInteger('42'), 42);
    assert.equal(parseInteger(' 42 '), 42);
    assert.equal(parseInteger(42), 42);
    assert.equal(parseInteger('4.2'), undefined);
    assert.equal(parseInteger('42abc'), undefined);
    assert.equal(parseInteger(''), undefined);
    assert.equal(parseNumber('1480327065.456978'), 1480327065.456978);
    assert.equal(parseNumber('.5'), 0.5);
    assert.equal(parseNumber(Infinity), undefined);
    assert.equal(parseNumber('1e3'), 1000);
    for (const yes of [true, 1, '1', 'true']) assert.equal(parseBoolean(yes), true);
    for (const no of [false, 0, '0', 'false']) assert.equal(parseBoolean(no), false);
    for (const neither of ['yes', 2, '', undefined, null]) assert.equal(parseBoolean(neither), undefined);
  });

  it('reads objects given as objects or JSON strings', () => {
    assert.deepEqual(parseObject({ a: 1 }, 'data'), { a: 1 });
    assert.deepEqual(parseObject('{"a":1}', 'data'), { a: 1 });
    assert.equal(parseObject('', 'data'), null);
    assert.equal(parseObject(undefined, 'data'), undefined);
    assert.throws(() => parseObject('[1]', 'data'), (e: unknown) => e instanceof ApiError && e.status === 422 && e.field === 'data');
  });

  it('pages with defaults and a cap', () => {
    assert.deepEqual(parsePaging({}, 100, 1000), { limit: 100, skip: 0 });
    assert.deepEqual(parsePaging({ limit: '5', skip: '10' }, 100, 1000), { limit: 5, skip: 10 });
    assert.deepEqual(parsePaging({ limit: '5000', skip: '-1' }, 100, 1000), { limit: 1000, skip: 0 });
    assert.deepEqual(parsePaging({ limit: '0', skip: 'x' }, 100, 1000), { limit: 100, skip: 0 });
  });

  it('sorts by allowed fields only', () => {
    const fields = ['date_sent', '_id'] as const;
    assert.deepEqual(parseSort({ sort_desc: 'date_sent' }, fields), { field: 'date_sent', direction: 'desc' });
    assert.deepEqual(parseSort({ sort_asc: '_id' }, fields), { field: '_id', direction: 'asc' });
    assert.equal(parseSort({ sort_desc: 'password' }, fields), undefined);
    assert.equal(parseSort({}, fields), undefined);
  });

  it('reads the field[op]=value filter language', () => {
    const spec = { type: 'integer', name: 'string', date_sent: 'number', updated_at: 'time', _id: 'objectId', 'attachments.type': 'string' } as const;
    const f = (query: string) => [...parseFilters(parse(query), spec), ...parseDataFilters(parse(query))];
    assert.deepEqual(f('type=2'), [{ field: 'type', op: 'eq', value: 2 }]);
    assert.deepEqual(f('type[in]=1,2&type[nin]=3'), [{ field: 'type', op: 'in', value: [1, 2] }, { field: 'type', op: 'nin', value: [3] }]);
    assert.deepEqual(f('type[or]=1,3'), [{ field: 'type', op: 'in', value: [1, 3] }]);
    assert.deepEqual(f('name[ctn]=Team'), [{ field: 'name', op: 'ctn', value: 'Team' }]);
    assert.deepEqual(f('date_sent[gte]=1480327065.45&date_sent[lt]=1480327099'), [
      { field: 'date_sent', op: 'gte', value: 1480327065.45 }, { field: 'date_sent', op: 'lt', value: 1480327099 },
    ]);
    assert.deepEqual(f('updated_at[lt]=1556829805'), [{ field: 'updated_at', op: 'lt', value: new Date(1556829805000) }]);
    assert.deepEqual(f('_id[lt]=6B06DFC27862583174000000'), [{ field: '_id', op: 'lt', value: '6b06dfc27862583174000000' }]);
    assert.deepEqual(f('attachments.type=image'), [{ field: 'attachments.type', op: 'eq', value: 'image' }]);
    assert.deepEqual(f('attachments[type][in]=image,video'), [{ field: 'attachments.type', op: 'in', value: ['image', 'video'] }]);
    assert.deepEqual(f('data[class_name]=Meta&data[level][gt]=2'), [
      { field: 'data.class_name', op: 'eq', value: 'Meta' }, { field: 'data.level', op: 'gt', value: 2 },
    ]);
    assert.deepEqual(f('type[bogus]=1&limit=10&chat_dialog_id=x'), []);
    assert.throws(() => f('type=abc'), badRequest('Incorrect format for parameter "type".'));
    assert.throws(() => f('updated_at[gt]=yesterday'), badRequest('Incorrect format for parameter "updated_at".'));
  });

  it('strips characters XML cannot carry from text', () => {
    assert.equal(stripXmlInvalid('a\u0000b\u0008c\td\ne\rf\u000bg\uffffh'), 'abc\td\ne\rfgh');
    assert.equal(stripXmlInvalid('pair \ud83d\ude00 lone \ud83d end \ude00'), 'pair \ud83d\ude00 lone  end ');
    assert.equal(stripXmlInvalid('plain <b>&</b> text'), 'plain <b>&</b> text');
  });
});
