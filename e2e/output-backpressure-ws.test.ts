// Output backpressure on XMPP over WebSocket (issue 14, item 2): a client that stops reading its
// socket gets at most max_output_buffer queued, then its stream ends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { useServer } from './support/fixture.js';
import { b64 } from './support/raw.js';
import { sleep, withTimeout } from './support/wait.js';

const HARD_LIMIT = 524_288;
const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>';

describe('output backpressure over WebSocket', () => {
  const fx = useServer({ overrides: { output_high_water: 65_536, max_output_buffer: HARD_LIMIT } });

  it('a WebSocket client that reads nothing: bounded buffer, then the stream ends', async () => {
    const [reader, sender] = [await fx.t.createUser(), await fx.t.createUser()];
    const ws = new WebSocket(`ws://127.0.0.1:${fx.t.server.ports.ws}/ws`, 'xmpp');
    let text = '';
    ws.on('message', (d) => (text += d.toString()));
    await new Promise((resolve) => ws.once('open', resolve));
    const until = (pattern: RegExp) => withTimeout((async () => { while (!pattern.test(text)) await sleep(10); })(), 5000, () => `ws ${pattern}: ${text.slice(-300)}`);
    ws.send(OPEN);
    await until(/<\/stream:features>|mechanisms/);
    ws.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${b64(`\0${reader.username}\0${reader.password}`)}</auth>`);
    await until(/<success/);
    ws.send(OPEN);
    ws.send('<iq type="set" id="b" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>ws</resource></bind></iq>');
    await until(/id="b"/);
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const loud = await fx.raws.connect(fx.t.server.ports.c2s);
    await loud.login(sender.username, sender.password);
    const body = 'w'.repeat(1000);
    let peak = 0;
    let ended = false;
    for (let round = 0; round < 400; round++) {
      const session = fx.t.server.core.sessions.resources(reader.jid)[0];
      if (!session) {
        ended = true;
        break;
      }
      const conn = session.connection as unknown as { bufferedBytes?: number };
      peak = Math.max(peak, conn.bufferedBytes ?? 0);
      loud.send(Array.from({ length: 20 }, () => `<message type="chat" to="${reader.jid}/ws"><body>${body}</body></message>`).join(''));
      await sleep(20);
    }
    console.log(`# peak buffered for the silent WebSocket client: ${peak} bytes (max_output_buffer ${HARD_LIMIT})`);
    assert.ok(ended, 'the silent client\'s stream was still open');
    assert.ok(peak <= HARD_LIMIT + 65_536, `buffered ${peak}`);
    ws.terminate();
    loud.destroy();
  });
});
