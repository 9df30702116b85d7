import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildForm } from '../../xmpp/data-form.js';
import { StanzaError } from '../../xmpp/errors.js';
import { applyForm, configForm, defaultConfig } from './config.js';
import { badNick } from './presences.js';

const submit = (fields: Record<string, string>) =>
  buildForm('submit', Object.entries(fields).map(([name, value]) => ({ var: `muc#roomconfig_${name}`, values: [value] })));

const refusal = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof StanzaError) return err.condition;
    throw err;
  }
  return undefined;
};

test('a submitted owner form changes what it names and keeps the rest', () => {
  const before = defaultConfig('lobby');
  const after = applyForm(before, submit({ roomname: 'The Lobby', membersonly: '1', historylength: '0', maxusers: '10' }));
  assert.deepEqual(after, { ...before, title: 'The Lobby', membersOnly: true, historyLength: 0, maxUsers: 10 });
  assert.equal(configForm(after).getChildren('field').find((f) => f.attrs.var === 'muc#roomconfig_roomname')?.getChildText('value'), 'The Lobby');
});

test('a password is set with roomsecret and cleared by passwordprotectedroom=0', () => {
  const locked = applyForm(defaultConfig('x'), submit({ passwordprotectedroom: '1', roomsecret: 'pw' }));
  assert.equal(locked.password, 'pw');
  assert.equal(applyForm(locked, submit({ passwordprotectedroom: '0' })).password, '');
  assert.equal(refusal(() => applyForm(defaultConfig('x'), submit({ passwordprotectedroom: 'true' }))), 'not-acceptable');
});

test('every value is bounded and typed', () => {
  const config = defaultConfig('x');
  for (const fields of <Record<string, string>[]>[
    { historylength: '101' }, { historylength: '-1' }, { historylength: '1e3' }, { maxusers: '0' }, { maxusers: '201' },
    { roomname: 'n'.repeat(201) }, { roomname: '  ' }, { roomdesc: 'd'.repeat(501) }, { roomsecret: 's'.repeat(65) },
    { membersonly: 'yes' }, { whois: 'moderators' },
  ]) {
    assert.equal(refusal(() => applyForm(config, submit(fields))), 'not-acceptable', JSON.stringify(fields));
  }
  const wrongType = buildForm('submit', [{ var: 'FORM_TYPE', values: ['urn:other'] }]);
  assert.equal(refusal(() => applyForm(config, wrongType)), 'bad-request');
});

test('nicks: bounded, trimmed, and digits only for one\'s own user id', () => {
  assert.equal(badNick('Alice', 7), null);
  assert.equal(badNick('7', 7), null);
  assert.notEqual(badNick('8', 7), null);
  assert.notEqual(badNick(' Alice', 7), null);
  assert.notEqual(badNick('n'.repeat(65), 7), null);
  assert.equal(badNick('ü'.repeat(64), 7), null);
});
