// Connection limits on the XMPP listeners (issue 14, items 7 and 8): the PROXY protocol (v1 on
// TCP, v2 on direct TLS) from a trusted proxy gives limits and sessions the client's real address;
// direct-TLS sockets count from the TCP accept and must finish their handshake in time; a session
// detached by stream management keeps counting; bound resources per account are capped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Command, IPv6Address, IPv6ProxyAddress, TransportProtocol, V2ProxyProtocol } from 'proxy-protocol-js';
import { useServer } from './support/fixture.js';
import { STREAM_HEADER, plainAuth, streamError } from './support/raw.js';
import type { TestUser } from './support/server.js';
import { sleep, withTimeout } from './support/wait.js';

const SESSION_OPEN = /<stream:features[\s\S]*?<\/stream:features>/;

/** Everything the server says on `socket`, as text, with a wait for a pattern. */
function reader(socket: net.Socket | tls.TLSSocket) {
  let text = '';
  let closed = false;
  const waiters = new Set<() => void>();
  socket.on('data', (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) w();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    for (const w of [...waiters]) w();
  });
  return {
    get text() {
      return text;
    },
    get closed() {
      return closed;
    },
    wait(pattern: RegExp, ms = 5000): Promise<string> {
      return withTimeout(
        new Promise<string>((resolve, reject) => {
          const check = () => {
            const m = pattern.exec(text);
            if (m) return waiters.delete(check), resolve(m[0]);
            if (closed) return waiters.delete(check), reject(new Error(`closed before ${pattern}: ${text.slice(-300)}`));
          };
          waiters.add(check);
          check();
        }),
        ms,
        () => `wait ${pattern} (got: ${text.slice(-300)})`,
      );
    },
    waitClosed(ms = 5000): Promise<void> {
      return withTimeout(new Promise<void>((resolve) => (closed ? resolve() : socket.once('close', () => resolve()))), ms, 'close');
    },
  };
}

const connect = (port: number): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });

describe('PROXY protocol from a trusted proxy', () => {
  const fx = useServer({ overrides: { proxy_protocol_from: '127.0.0.1/32', max_connections_per_ip: 2 } });
  const addressOf = (user: TestUser): string | undefined => fx.t.server.core.sessions.resources(user.jid)[0]?.connection.remoteAddress;

  it('v1 on the TCP listener: the session sees the client address the header names', async () => {
    const user = await fx.t.createUser();
    const socket = await connect(fx.t.server.ports.c2s);
    const r = reader(socket);
    // Header and stream start in one write, as a proxy forwarding a quick client does.
    socket.write(`PROXY TCP4 203.0.113.7 127.0.0.1 40000 5222\r\n${STREAM_HEADER()}`);
    await r.wait(SESSION_OPEN);
    socket.write(plainAuth('', user.username, user.password));
    await r.wait(/<success/);
    socket.write(STREAM_HEADER());
    socket.write('<iq type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>p</resource></bind></iq>');
    await r.wait(/id="b"[^>]*>|type="result"[^>]*id="b"/);
    assert.equal(addressOf(user), '203.0.113.7');
    socket.destroy();
  });

  it('v2 (binary, IPv6) on the direct-TLS listener, then the TLS handshake on the same socket', async () => {
    const user = await fx.t.createUser();
    const raw = await connect(fx.t.server.ports.c2sTls);
    const client = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07];
    const header = new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM,
      new IPv6ProxyAddress(IPv6Address.createFrom(client), 40000, IPv6Address.createFrom([...Array(15).fill(0), 1]), 5223)).build();
    raw.write(Buffer.from(header));
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    const r = reader(secure);
    secure.write(STREAM_HEADER());
    await r.wait(SESSION_OPEN);
    secure.write(plainAuth('', user.username, user.password));
    await r.wait(/<success/);
    secure.write(STREAM_HEADER());
    secure.write('<iq type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>p</resource></bind></iq>');
    await r.wait(/type="result"/);
    assert.equal(addressOf(user), '2001:db8::7');
    secure.destroy();
  });

  it('the per-address cap applies to the real client addresses, not to the proxy', async () => {
    const open = async (address: string) => {
      const socket = await connect(fx.t.server.ports.c2s);
      const r = reader(socket);
      socket.write(`PROXY TCP4 ${address} 127.0.0.1 40000 5222\r\n${STREAM_HEADER()}`);
      await r.wait(/<stream:features|<stream:error/);
      return { socket, r };
    };
    const held = [await open('198.51.100.1'), await open('198.51.100.1')];
    for (const c of held) assert.match(c.r.text, SESSION_OPEN);
    const third = await open('198.51.100.1');
    await third.r.wait(streamError('policy-violation'));
    const other = await open('198.51.100.2');
    await sleep(200);
    assert.equal(other.r.closed, false, 'another client behind the same proxy is not limited');
    for (const c of [...held, third, other]) c.socket.destroy();
  });

  it('a trusted peer that sends no PROXY header is dropped', async () => {
    const socket = await connect(fx.t.server.ports.c2s);
    const r = reader(socket);
    socket.write(STREAM_HEADER());
    await r.waitClosed(5000);
    assert.doesNotMatch(r.text, /<stream:features/);
  });
});

describe('connection and resource caps', () => {
  const MAX = 3;
  const fx = useServer({ overrides: { max_connections_per_ip: MAX, max_resources_per_user: 2, tls_handshake_timeout: 1 } });

  it('direct-TLS sockets count from the TCP accept: half-open handshakes cannot exceed the cap', async () => {
    const sockets = await Promise.all(Array.from({ length: MAX }, () => connect(fx.t.server.ports.c2sTls)));
    const extra = await connect(fx.t.server.ports.c2sTls);
    const r = reader(extra);
    await r.waitClosed(800); // dropped at once, well before the 1 s handshake timeout
    for (const s of sockets) s.destroy();
  });

  it('a direct-TLS socket that never finishes its handshake is closed after tls_handshake_timeout', async () => {
    await sleep(100);
    const socket = await connect(fx.t.server.ports.c2sTls);
    const r = reader(socket);
    const t0 = Date.now();
    await r.waitClosed(5000);
    assert.ok(Date.now() - t0 >= 800, 'not before the timeout');
  });

  it('a session detached by stream management keeps counting against its address', async () => {
    await sleep(100);
    const user = await fx.t.createUser();
    const a = await fx.raws.connect(fx.t.server.ports.c2s);
    await a.login(user.username, user.password, 'sm');
    a.send('<enable xmlns="urn:xmpp:sm:3" resume="true"/>');
    await a.expect(/<enabled/);
    a.destroy();
    await withTimeout((async () => { while (!fx.t.server.core.sessions.resources(user.jid)[0]?.detached) await sleep(20); })(), 5000, 'detached');
    const live = [await fx.raws.connect(fx.t.server.ports.c2s), await fx.raws.connect(fx.t.server.ports.c2s)];
    for (const c of live) await c.open();
    const over = await fx.raws.connect(fx.t.server.ports.c2s);
    over.send(STREAM_HEADER());
    await over.expect(streamError('policy-violation'));
    for (const c of [...live, over]) c.destroy();
    fx.t.server.core.sessions.resources(user.jid)[0]?.close();
  });

  it('a bind beyond max_resources_per_user fails with resource-constraint', async () => {
    await sleep(100);
    const user = await fx.t.createUser();
    const first = await fx.raws.connect(fx.t.server.ports.c2s);
    await first.login(user.username, user.password, 'one');
    const second = await fx.raws.connect(fx.t.server.ports.c2s);
    await second.login(user.username, user.password, 'two');
    first.send('<iq type="get" id="keep"><ping xmlns="urn:xmpp:ping"/></iq>');
    await first.expect(/id="keep"/);
    const third = await fx.raws.connect(fx.t.server.ports.c2s);
    await third.open();
    third.send(plainAuth('', user.username, user.password));
    await third.expect(/<success/);
    await third.open();
    third.send('<iq type="set" id="bind3"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>three</resource></bind></iq>');
    const answer = await third.expect(/<iq[^>]*id="bind3"[\s\S]*?<\/iq>/);
    assert.match(answer, /type="error"/);
    assert.match(answer, /<error type="wait"[^>]*><resource-constraint /);
    // Re-binding a resource the account already has replaces it instead (conflict), as before.
    third.send('<iq type="set" id="bind4"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>two</resource></bind></iq>');
    assert.match(await third.expect(/<iq[^>]*id="bind4"[\s\S]*?<\/iq>/), /type="result"/);
    for (const c of [first, second, third]) c.destroy();
  });
});
