// The HTTP(S) listeners drop what only holds resources: connections past the per-address cap,
// requests whose headers never finish, TLS handshakes that never start.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { useServer } from './support/fixture.js';
import { restUrl } from './support/rest.js';
import { freePort } from './support/server.js';

/** Resolves with how long the server took to close the socket, or null if it was still open after `waitMs`. */
function closedWithin(socket: net.Socket, waitMs: number): Promise<number | null> {
  const start = performance.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - start);
    });
    socket.on('error', () => {});
    socket.resume(); // read whatever the server answers (a 408), so that its close is seen
  });
}

const connect = (port: number): Promise<net.Socket> => new Promise((resolve, reject) => {
  const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
  socket.once('error', reject);
});

describe('HTTP(S) connection limits and timeouts', async () => {
  const https_port = await freePort();
  const fx = useServer({ overrides: { https_port, http_max_connections_per_ip: 10, http_headers_timeout: 2, tls_handshake_timeout: 2 } });

  it('closes connections from one address past http_max_connections_per_ip, and serves the others', async () => {
    const sockets = await Promise.all(Array.from({ length: 15 }, () => connect(fx.t.server.ports.http)));
    try {
      const closed = await Promise.all(sockets.map((s) => closedWithin(s, 1500)));
      assert.equal(closed.filter((ms) => ms !== null).length, 5, 'the five past the cap are closed at once');
      const kept = sockets.find((_, i) => closed[i] === null)!;
      const answer = new Promise<string>((resolve) => kept.once('data', (d) => resolve(String(d))));
      kept.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(await answer, /^HTTP\/1\.1 200/);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(restUrl(fx.t, '/health'));
    assert.equal(res.status, 200, 'closed connections leave the count');
  });

  it('drops a request whose headers never finish after http_headers_timeout, not a minute later', async () => {
    const socket = await connect(fx.t.server.ports.http);
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const ms = await closedWithin(socket, 8000);
    socket.destroy();
    assert.ok(ms !== null && ms < 6000, `held ${ms === null ? 'over 8000' : ms.toFixed(0)} ms`);
  });

  it('answers headers past 16 KB (431) and an unparsable request (400) in QuickBlox\'s error shape', async () => {
    for (const [request, status, text] of [
      [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'Request header fields too large'],
      ['BOGUS / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'Bad request'],
    ] as const) {
      const socket = await connect(fx.t.server.ports.http);
      let answer = '';
      socket.on('data', (d) => (answer += d));
      socket.write(request);
      await closedWithin(socket, 3000);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.ok(answer.endsWith(`\r\n\r\n{"errors":{"base":["${text}"]}}`), answer);
    }
  });

  it('drops a TLS connection that never handshakes after tls_handshake_timeout', async () => {
    const socket = await connect(fx.t.server.ports.https);
    const ms = await closedWithin(socket, 8000);
    socket.destroy();
    assert.ok(ms !== null && ms < 6000, `held ${ms === null ? 'over 8000' : ms.toFixed(0)} ms`);
  });
});
