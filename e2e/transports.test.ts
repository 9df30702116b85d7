// The listeners: STARTTLS on c2s, direct TLS, XMPP over WebSocket on its port and on the HTTP port.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { useServer } from './support/fixture.js';
import { withBody, xml } from './support/clients.js';
import { streamError } from './support/raw.js';
import { Inbox, withTimeout } from './support/wait.js';

const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/** A raw RFC 7395 WebSocket: frames in an inbox. */
async function rawWs(url: string): Promise<{ ws: WebSocket; frames: Inbox<string>; closed: Promise<number> }> {
  const ws = new WebSocket(url, ['xmpp']);
  const frames = new Inbox<string>();
  ws.on('message', (data) => frames.push(data.toString()));
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await withTimeout(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))), 3000, 'ws open');
  return { ws, frames, closed };
}

describe('transports', () => {
  const sockets: WebSocket[] = [];
  const fx = useServer({
    teardown: () => {
      for (const ws of sockets) ws.terminate();
    },
  });

  it('c2s offers STARTTLS, and @xmpp/client logs in over TLS after it', async () => {
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    const features = await raw.open();
    assert.match(features, /<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"\/>/, 'offered, not required');
    raw.destroy();
    const alice = await fx.pool.connect(await fx.t.createUser(), { transport: 'tcp', presence: false });
    assert.equal(alice.xmpp.isSecure(), true);
    await alice.ping();
    await alice.stop();
  });

  it('direct TLS (xmpps://) works', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser(), { transport: 'tls', presence: false });
    assert.equal(alice.xmpp.isSecure(), true);
    await alice.ping();
    await alice.stop();
  });

  it('WebSocket works at / and /ws on the WebSocket port, and at /ws on the HTTP port', async () => {
    const { ws, http } = fx.t.server.ports;
    const bob = await fx.pool.connect(await fx.t.createUser());
    for (const service of [`ws://127.0.0.1:${ws}/ws`, `ws://127.0.0.1:${ws}/`, `ws://127.0.0.1:${http}/ws`]) {
      const alice = await fx.pool.connect(await fx.t.createUser(), { service });
      await alice.send(xml('message', { type: 'chat', to: bob.user.jid }, xml('body', {}, service)));
      const got = await bob.take(withBody);
      assert.equal(got.getChildText('body'), service);
      assert.equal(got.attrs.from, alice.jid);
      await alice.stop();
    }
    await bob.stop();
  });

  it('a WebSocket on an unknown path is refused', async () => {
    await assert.rejects(rawWs(`ws://127.0.0.1:${fx.t.server.ports.ws}/nope`));
  });

  it('the HTTP port answers /health', async () => {
    const res = await fetch(`http://127.0.0.1:${fx.t.server.ports.http}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', checks: { store: 'ok' } });
  });

  it('WebSocket framing: <open/> gets <open/> and features; malformed XML gets a stream error and <close/>', async () => {
    const conn = await rawWs(`ws://127.0.0.1:${fx.t.server.ports.ws}/ws`);
    sockets.push(conn.ws);
    assert.equal(conn.ws.protocol, 'xmpp');
    conn.ws.send(`<open xmlns="${NS_FRAMING}" to="${fx.t.domain}" version="1.0"/>`);
    const open = await conn.frames.take((f) => f.startsWith('<open'));
    assert.match(open, new RegExp(`^<open xmlns="${NS_FRAMING}"[^>]* from="${fx.t.domain}"[^>]*/>$`));
    assert.match(await conn.frames.take((f) => f.includes('features')), /<mechanism>SCRAM-SHA-256<\/mechanism>/);
    conn.ws.send('<message><body>x</bdy></message>');
    assert.match(await conn.frames.take((f) => f.includes('stream:error')), streamError('not-well-formed'));
    assert.match(await conn.frames.take((f) => f.startsWith('<close')), new RegExp(`^<close xmlns="${NS_FRAMING}"/>$`));
    await withTimeout(conn.closed, 3000, 'ws closed');
  });

  it('WebSocket: <open/> to another host gets host-unknown', async () => {
    const conn = await rawWs(`ws://127.0.0.1:${fx.t.server.ports.ws}/ws`);
    sockets.push(conn.ws);
    conn.ws.send(`<open xmlns="${NS_FRAMING}" to="other.example" version="1.0"/>`);
    assert.match(await conn.frames.take((f) => f.includes('stream:error')), streamError('host-unknown'));
    await withTimeout(conn.closed, 3000, 'ws closed');
  });
});
