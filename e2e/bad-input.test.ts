// Hostile and broken input on raw TCP: each ends only its own stream, with the right stream error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { withBody, xml, type Conn } from './support/clients.js';
import { STREAM_HEADER, rawExchange, streamError, type RawClient } from './support/raw.js';

const MAX_STANZA = 10_000;

describe('bad input', () => {
  let alice: Conn;
  let bob: Conn;
  const fx = useServer({
    overrides: { max_stanza_size: MAX_STANZA },
    setup: async () => {
      alice = await fx.pool.connect(await fx.t.createUser());
      bob = await fx.pool.connect(await fx.t.createUser(), { transport: 'ws' });
    },
  });

  /** Alice and Bob, logged in all along, can still talk. */
  const bystandersStillTalk = async (tag: string): Promise<void> => {
    await alice.send(xml('message', { type: 'chat', to: bob.user.jid }, xml('body', {}, `ping ${tag}`)));
    assert.equal((await bob.take(withBody)).getChildText('body'), `ping ${tag}`);
    await bob.send(xml('message', { type: 'chat', to: alice.jid }, xml('body', {}, `pong ${tag}`)));
    assert.equal((await alice.take(withBody)).getChildText('body'), `pong ${tag}`);
  };

  const loggedIn = async (): Promise<RawClient> => {
    const user = await fx.t.createUser();
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    await raw.login(user.username, user.password);
    return raw;
  };

  /** Sends `bad` on a fresh stream (logged in or not), expects the stream error and the connection closed. */
  const expectStreamError = async (condition: string, bad: string | Buffer | (string | Buffer)[], opts: { login?: boolean } = {}): Promise<void> => {
    const raw = opts.login ? await loggedIn() : await fx.raws.connect(fx.t.server.ports.c2s);
    if (!opts.login) await raw.open();
    for (const piece of Array.isArray(bad) ? bad : [bad]) raw.send(piece);
    await raw.expect(streamError(condition), 2000);
    await raw.expect('</stream:stream>');
    await raw.waitClosed();
    await bystandersStillTalk(condition);
  };

  it('mismatched tags after login: not-well-formed, and other clients keep talking', () =>
    expectStreamError('not-well-formed', '<message><body>x</bdy></message>', { login: true }));

  it('an oversized stanza: policy-violation', () =>
    expectStreamError('policy-violation', `<message to="x@localhost"><body>${'a'.repeat(MAX_STANZA + 1000)}</body></message>`, { login: true }));

  it('an oversized stanza sent in small pieces: policy-violation before it ends', async () => {
    const pieces = ['<message><body>', ...Array.from({ length: 30 }, () => 'b'.repeat(500))];
    await expectStreamError('policy-violation', pieces, { login: true });
  });

  it('a stanza just under the limit is accepted', async () => {
    const user = await fx.t.createUser();
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    await raw.login(user.username, user.password);
    const body = 'c'.repeat(MAX_STANZA - 200);
    raw.send(`<message to="${bob.user.jid}" type="chat"><body>${body}</body></message>`);
    assert.equal((await bob.take(withBody)).getChildText('body'), body);
    raw.destroy();
  });

  it('max_stanza_size counts characters: 11,000 Cyrillic letters are refused', () =>
    expectStreamError('policy-violation', `<message to="x@localhost"><body>${'ж'.repeat(11000)}</body></message>`, { login: true }));

  it('an unterminated start tag growing past the limit: policy-violation', () =>
    expectStreamError('policy-violation', [`<message to="x@localhost" a="`, ...Array.from({ length: 10 }, () => 'y'.repeat(5000))], { login: true }));

  it('a DOCTYPE: restricted-xml', async () => {
    const { text, closed } = await rawExchange(fx.t.server.ports.c2s, `<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY x "y">]>${STREAM_HEADER().replace(/^<\?xml[^>]*>/, '')}`);
    assert.match(text, streamError('restricted-xml'));
    assert.ok(closed);
  });

  it('a comment: restricted-xml', () => expectStreamError('restricted-xml', '<!-- hello -->'));
  it('a processing instruction: restricted-xml', () => expectStreamError('restricted-xml', '<?pi x?>'));
  it('a comment inside a stanza after login: restricted-xml', () =>
    expectStreamError('restricted-xml', '<message><body>a<!-- c -->b</body></message>', { login: true }));

  it('invalid UTF-8: not-well-formed', () =>
    expectStreamError('not-well-formed', Buffer.concat([Buffer.from('<message><body>'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('</body></message>')]), { login: true }));

  it('an unknown top-level element: unsupported-stanza-type', () => expectStreamError('unsupported-stanza-type', '<foo xmlns="urn:example:foo"/>'));

  it('a message before authentication: not-authorized', () =>
    expectStreamError('not-authorized', `<message to="1-1@localhost" type="chat"><body>sneaky</body></message>`));

  it('an IQ before authentication: not-authorized', () =>
    expectStreamError('not-authorized', '<iq type="get" id="p1" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>'));

  it('a stream to another host: host-unknown', async () => {
    const { text, closed } = await rawExchange(fx.t.server.ports.c2s, STREAM_HEADER('other.example'));
    assert.match(text, /<stream:stream [^>]*>/, 'the server opens its own stream before the error');
    assert.match(text, streamError('host-unknown'));
    assert.match(text, /<\/stream:stream>$/);
    assert.ok(closed);
  });

  it('a wrong stream namespace: invalid-namespace; no version: unsupported-version', async () => {
    const wrongNs = await rawExchange(fx.t.server.ports.c2s, `<stream:stream xmlns="jabber:server" xmlns:stream="http://etherx.jabber.org/streams" to="localhost" version="1.0">`);
    assert.match(wrongNs.text, streamError('invalid-namespace'));
    const noVersion = await rawExchange(fx.t.server.ports.c2s, `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">`);
    assert.match(noVersion.text, streamError('unsupported-version'));
  });

  it('nesting deeper than max_depth: policy-violation', () =>
    expectStreamError('policy-violation', `<message>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</message>`, { login: true }));

  it('nesting within max_depth is fine', async () => {
    const raw = await loggedIn();
    raw.send(`<message to="${bob.user.jid}" type="chat"><body>deep</body><x xmlns="urn:example">${'<a>'.repeat(20)}${'</a>'.repeat(20)}</x></message>`);
    assert.equal((await bob.take(withBody)).getChildText('body'), 'deep');
    raw.destroy();
  });

  it('too many attributes: policy-violation', () =>
    expectStreamError('policy-violation', `<message ${Array.from({ length: 100 }, (_, i) => `a${i}="v"`).join(' ')}/>`, { login: true }));

  it('text between stanzas: bad-format', () => expectStreamError('bad-format', 'hello<message/>'));

  it('the server keeps serving: a fresh login works after all of the above', async () => {
    const user = await fx.t.createUser();
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    const jid = await raw.login(user.username, user.password, 'after');
    assert.equal(jid, `${user.jid}/after`);
    raw.send(`<message to="${alice.jid}" type="chat"><body>still alive</body></message>`);
    const got = await alice.take(withBody);
    assert.equal(got.attrs.from, jid);
    raw.destroy();
    await bystandersStillTalk('end');
  });
});
