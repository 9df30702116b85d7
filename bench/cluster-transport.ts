// The cluster transport alone: what one envelope costs the sending node, the receiving node and
// Redis, through Redis pub/sub or over a direct link, with nothing else (no XMPP, no store).
//   node dist/bench/cluster-transport.js [--rate 1000] [--seconds 5] [--rounds 2] [--redis redis://…]
// Two child processes, each a RedisCluster; one publishes `rate` envelopes of ~300 characters per
// second to the other (paced every millisecond), alternating "redis" and "links" for --rounds.
// CPU from process.cpuUsage() of each child over the window, Redis's from /proc when local.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisCluster } from '../src/cluster/redis.js';
import { processCpu } from './harness/proc.js';
import { localRedisPid } from './harness/redis.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    redis: { type: 'string', default: process.env.PARLEY_TEST_REDIS_URL ?? process.env.PARLEY_REDIS_URL ?? '' },
    role: { type: 'string' },
    id: { type: 'string' },
    peer: { type: 'string' },
    prefix: { type: 'string' },
    secret: { type: 'string' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const redisUrl = values.redis!;
if (!redisUrl) {
  console.error('no Redis: pass --redis redis://… or set PARLEY_TEST_REDIS_URL');
  process.exit(2);
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

if (values.role) {
  // A child: one cluster node. The parent says "go"; the sender publishes for `seconds`.
  const cluster = new RedisCluster({
    url: redisUrl,
    nodeId: values.id!,
    ttl: 10,
    prefix: values.prefix!,
    log: pino({ level: 'warn' }),
    links: values.secret ? { secret: values.secret, bind: '127.0.0.1', port: 0, advertise: null } : null,
  });
  let received = 0;
  await cluster.start(() => void received++);
  const stanza = `<message type="chat" to="a@localhost" from="b@localhost/r" id="x"><body>${'y'.repeat(200)}</body></message>`;
  process.on('message', async (command: string) => {
    if (command === 'warm') {
      // The first envelopes dial the link (through Redis meanwhile).
      for (let i = 0; i < 50; i++) {
        await cluster.publish(values.peer!, { kind: 'message/bare', to: 'a@localhost', stanza });
        await new Promise((r) => setTimeout(r, 10));
      }
      process.send!({ warm: true });
    } else if (command === 'start') {
      received = 0;
      process.send!({ cpu: cpuMs() });
    } else if (command === 'go') {
      const started = performance.now();
      let sent = 0;
      const timer = setInterval(() => {
        const due = Math.min(rate * seconds, Math.floor(((performance.now() - started) / 1000) * rate));
        for (; sent < due; sent++) void cluster.publish(values.peer!, { kind: 'message/bare', to: 'a@localhost', stanza });
        if (sent >= rate * seconds) {
          clearInterval(timer);
          process.send!({ sent });
        }
      }, 1);
    } else if (command === 'end') {
      process.send!({ cpu: cpuMs(), received });
    } else if (command === 'stop') {
      await cluster.stop();
      process.exit(0);
    }
  });
  process.send!({ ready: true });
} else {
  const redisPid = await localRedisPid(redisUrl);
  console.log(`cluster transport: ${rate} envelopes/s for ${seconds}s, one direction; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const mode of ['redis', 'links'] as const) {
      const prefix = `parley-bench-${randomBytes(4).toString('hex')}:`;
      const secret = mode === 'links' ? randomBytes(16).toString('hex') : undefined;
      const self = fileURLToPath(import.meta.url);
      const child = (id: string, peer: string) =>
        fork(self, ['--role', 'node', '--id', id, '--peer', peer, '--prefix', prefix, '--redis', redisUrl, '--rate', String(rate), '--seconds', String(seconds), ...(secret ? ['--secret', secret] : [])]);
      const [a, b] = [child('tx', 'rx'), child('rx', 'tx')];
      const next = (c: ReturnType<typeof fork>): Promise<Record<string, number>> => new Promise((resolve) => c.once('message', (m) => resolve(m as Record<string, number>)));
      await Promise.all([next(a), next(b)]);
      a.send('warm');
      await next(a);
      const load = loadavg()[0]!;
      const before = await Promise.all([next(a), next(b), (a.send('start'), b.send('start'), Promise.resolve())]);
      const redisBefore = redisPid ? await processCpu(redisPid) : 0;
      const started = performance.now();
      a.send('go');
      const { sent } = await next(a);
      await new Promise((r) => setTimeout(r, 300));
      a.send('end');
      b.send('end');
      const [endA, endB] = await Promise.all([next(a), next(b)]);
      const redisAfter = redisPid ? await processCpu(redisPid) : 0;
      const n = endB.received!;
      const per = (ms: number): string => ((ms * 1000) / Math.max(1, n)).toFixed(1);
      console.log(
        `round ${round} ${mode.padEnd(5)}: sent ${sent}, received ${n} in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
          `µs per envelope: sender ${per(endA.cpu! - before[0].cpu!)}, receiver ${per(endB.cpu! - before[1].cpu!)}, Redis ${redisPid ? per(redisAfter - redisBefore) : 'n/a'}; load average ${load.toFixed(2)}`,
      );
      a.send('stop');
      b.send('stop');
      await Promise.all([new Promise((r) => a.once('exit', r)), new Promise((r) => b.once('exit', r))]);
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  }
}


