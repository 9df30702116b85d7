// Ad-hoc commands (XEP-0050 with XEP-0133 announce and online users) for operators, in-band
// registration (XEP-0077) into the configured application, and XEP-0049 private storage, with
// @xmpp/client (and stanza.js for the password change, which ends the user's other streams and REST tokens). Registration happens before
// authentication, which no client library here drives: a raw socket sends it, and the account is
// then used with @xmpp/client.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { xml, type XEl } from './support/clients.js';
import { StanzaPool } from './support/stanza.js';
import type { TestUser } from './support/server.js';
import { restSession, restUrl } from './support/rest.js';
import { until } from './support/wait.js';

const NS_COMMANDS = 'http://jabber.org/protocol/commands';
const ANNOUNCE = 'http://jabber.org/protocol/admin#announce';
const ONLINE = 'http://jabber.org/protocol/admin#get-online-users-list';
const values = (form: XEl | undefined, name: string): string[] =>
  form?.getChildren('field').find((f) => f.attrs.var === name)?.getChildren('value').map((v) => v.text()) ?? [];

describe('operator commands, in-band registration and private storage', () => {
  let operator: TestUser;
  let stanzas: StanzaPool;
  const fx = useServer({
    // The first user the test creates becomes the operator (ids are assigned in order from 1).
    overrides: { operator_jids: '1-1@localhost', registration_app_id: 1 },
    setup: async () => {
      operator = await fx.t.createUser('operator', 'operator-password');
    },
    teardown: () => stanzas.disconnectAll(),
  });
  stanzas = new StanzaPool(() => fx.t);

  it('lists and runs the operator commands; others see none and may not run them', async () => {
    assert.equal(operator.jid, '1-1@localhost');
    const [alice, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const op = await fx.pool.connect(operator);
    const a = await fx.pool.connect(alice);
    const b = await fx.pool.connect(bob);

    const list = await op.iq(xml('iq', { type: 'get', to: fx.t.domain }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: NS_COMMANDS })));
    assert.deepEqual(list.getChild('query')!.getChildren('item').map((i) => i.attrs.node).sort(), [ANNOUNCE, ONLINE]);
    const none = await a.iq(xml('iq', { type: 'get', to: fx.t.domain }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: NS_COMMANDS })));
    assert.deepEqual(none.getChild('query')!.getChildren('item'), []);
    const refused = await a.iq(xml('iq', { type: 'set', to: fx.t.domain }, xml('command', { xmlns: NS_COMMANDS, node: ONLINE, action: 'execute' }))).catch((e) => e);
    assert.equal(refused.condition, 'forbidden');

    const online = await op.iq(xml('iq', { type: 'set', to: fx.t.domain }, xml('command', { xmlns: NS_COMMANDS, node: ONLINE, action: 'execute' })));
    const done = online.getChild('command', NS_COMMANDS)!;
    assert.equal(done.attrs.status, 'completed');
    assert.deepEqual(values(done.getChild('x', 'jabber:x:data'), 'onlineuserjids').sort(), [alice.jid, bob.jid, operator.jid].sort());

    // Announce: a form first, then the submitted form goes out to every online resource.
    const first = (await op.iq(xml('iq', { type: 'set', to: fx.t.domain }, xml('command', { xmlns: NS_COMMANDS, node: ANNOUNCE, action: 'execute' })))).getChild('command', NS_COMMANDS)!;
    assert.equal(first.attrs.status, 'executing');
    assert.ok(first.getChild('x', 'jabber:x:data')?.getChildren('field').some((f) => f.attrs.var === 'body'));
    const submit = xml('command', { xmlns: NS_COMMANDS, node: ANNOUNCE, action: 'complete', sessionid: first.attrs.sessionid! },
      xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/admin')),
        xml('field', { var: 'subject' }, xml('value', {}, 'Maintenance')),
        xml('field', { var: 'body' }, xml('value', {}, 'Back at 10:00'))));
    const completed = (await op.iq(xml('iq', { type: 'set', to: fx.t.domain }, submit))).getChild('command', NS_COMMANDS)!;
    assert.equal(completed.attrs.status, 'completed');
    for (const conn of [a, b]) {
      const got = await conn.take((el) => el.name === 'message' && el.attrs.type === 'headline' && el.getChildText('subject') === 'Maintenance', 4000, 'announcement');
      assert.equal(got.attrs.from, fx.t.domain);
      assert.equal(got.getChildText('body'), 'Back at 10:00');
    }
    // The session id is spent.
    const again = await op.iq(xml('iq', { type: 'set', to: fx.t.domain }, submit)).catch((e) => e);
    assert.equal(again.condition, 'bad-request');
  });

  it('registers an account before authentication into the configured application, then signs in with it', async () => {
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    const features = await raw.open();
    assert.match(features, /<register xmlns="http:\/\/jabber.org\/features\/iq-register"\/>/);
    raw.send('<iq type="get" id="r1"><query xmlns="jabber:iq:register"/></iq>');
    assert.match(await raw.expect(/<iq[^>]*id="r1"[\s\S]*?<\/iq>/), /<username\/><password\/>/);
    raw.send('<iq type="set" id="r2"><query xmlns="jabber:iq:register"><username>newcomer</username><password>short</password></query></iq>');
    assert.match(await raw.expect(/<iq[^>]*id="r2"[\s\S]*?<\/iq>/), /not-acceptable/);
    raw.send('<iq type="set" id="r3"><query xmlns="jabber:iq:register"><username>newcomer</username><password>long-enough-1</password></query></iq>');
    const result = await raw.expect(/<iq[^>]*id="r3"[\s\S]*?<\/iq>/);
    const username = /<username>([^<]+)<\/username>/.exec(result)?.[1];
    assert.ok(username, result);
    const user = await fx.t.store.accounts.getUserByLogin(1, 'newcomer');
    assert.equal(username, `${user!.id}-1`);
    raw.send('<iq type="set" id="r4"><query xmlns="jabber:iq:register"><username>second</username><password>long-enough-1</password></query></iq>');
    assert.match(await raw.expect(/<iq[^>]*id="r4"[\s\S]*?<\/iq>/), /not-allowed/);
    raw.destroy();
    // A taken login is a conflict.
    const raw2 = await fx.raws.connect(fx.t.server.ports.c2s);
    await raw2.open();
    raw2.send('<iq type="set" id="r5"><query xmlns="jabber:iq:register"><username>newcomer</username><password>long-enough-1</password></query></iq>');
    assert.match(await raw2.expect(/<iq[^>]*id="r5"[\s\S]*?<\/iq>/), /conflict/);
    raw2.destroy();

    // The new account signs in with @xmpp/client, then changes its password with stanza.js.
    const registered = { ...user!, password: 'long-enough-1', username, jid: `${username}@${fx.t.domain}` } as TestUser;
    const conn = await fx.pool.connect(registered);
    assert.equal(conn.jid.split('/')[0], registered.jid);
    const s = await stanzas.connect(registered);
    const token = await restSession(fx.t, { login: 'newcomer', password: 'long-enough-1' });
    assert.equal((await fetch(restUrl(fx.t, '/users.json'), { headers: { 'QB-Token': token } })).status, 200);
    await s.agent.updateAccount(undefined as unknown as string, { password: 'changed-password-2' });
    assert.equal(await fx.t.store.accounts.verifyPassword(1, user!.id, 'changed-password-2'), true);
    // As over REST: the user's other stream ends with <reset/>, and the REST token (an XMPP password too) is gone.
    await until(() => conn.errors.some((e) => e.condition === 'reset'), 5000, 'a reset stream error on the other stream');
    assert.equal((await fetch(restUrl(fx.t, '/users.json'), { headers: { 'QB-Token': token } })).status, 401, 'the old REST token no longer works');
    // The stream that made the change got its result and stays: it still answers an IQ.
    assert.equal((await s.agent.ping(fx.t.domain)), undefined);
    assert.equal(fx.t.server.core.sessions.isOnline(registered.jid), true);
  });

  it('keeps private XML per account and refuses reserved namespaces', async () => {
    const [alice, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const a = await fx.pool.connect(alice);
    const note = xml('notes', { xmlns: 'http://example.org/notes' }, xml('note', { id: '1' }, 'milk & eggs'));
    await a.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:private' }, note)));
    const got = await a.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:private' }, xml('notes', { xmlns: 'http://example.org/notes' }))));
    assert.equal(got.getChild('query')!.getChild('notes', 'http://example.org/notes')?.getChildText('note'), 'milk & eggs');
    const b = await fx.pool.connect(bob);
    const empty = await b.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:private' }, xml('notes', { xmlns: 'http://example.org/notes' }))));
    assert.equal(empty.getChild('query')!.getChild('notes', 'http://example.org/notes')?.getChildren('note').length, 0);
    const reserved = await a.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:private' }, xml('query', { xmlns: 'jabber:iq:roster' })))).catch((e) => e);
    assert.equal(reserved.condition, 'not-acceptable');
    const other = await b.iq(xml('iq', { type: 'get', to: alice.jid }, xml('query', { xmlns: 'jabber:iq:private' }, xml('notes', { xmlns: 'http://example.org/notes' })))).catch((e) => e);
    assert.equal(other.condition, 'forbidden');
  });
});
