// The relay floor: the least a Node process can do to pass chat messages between TCP clients, for
// comparing Parley's relay against (issue 17, target 4). No XML, no sessions, no modules: each
// connection names itself with one line (`LOCALPART\n`), then sends `<message … to="LOCALPART@…">…
// </message>` stanzas; the floor finds each stanza's end and its `to`, and writes the stanza's bytes
// (a view of the chunk read, no copy) to that client's socket: one write per delivered message, as
// Parley does at this rate. Sockets as Parley sets them up (no Nagle, keep-alive), 'data' events.
// Run by bench/messages.ts with --server floor (it spawns this file):
//   node dist/bench/messages.js --server floor --pairs 500 --rate 8 --seconds 20 [--perf FILE] [--trace-gc]
// Alone: node dist/bench/relay-floor.js --port P
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const END = Buffer.from('</message>');
const TO = Buffer.from(' to="');
const clients = new Map<string, net.Socket>();

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  let name: string | null = null;
  let pending: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let at = 0;
    if (name === null) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        pending = buf;
        return;
      }
      name = buf.toString('latin1', 0, nl);
      clients.set(name, socket);
      at = nl + 1;
    }
    for (;;) {
      const end = buf.indexOf(END, at);
      if (end < 0) break;
      const stop = end + END.length;
      const to = buf.indexOf(TO, at);
      if (to >= 0 && to < end) {
        const from = to + TO.length;
        let close = from;
        while (close < end && buf[close] !== 64 /* @ */ && buf[close] !== 34 /* " */) close++;
        const target = clients.get(buf.toString('latin1', from, close));
        if (target?.writable) target.write(buf.subarray(at, stop));
      }
      at = stop;
    }
    if (at < buf.length) pending = buf.subarray(at);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    if (name !== null && clients.get(name) === socket) clients.delete(name);
  });
});
server.listen(Number(values.port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
