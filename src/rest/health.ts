// /health (is this node able to serve: the store answers, and Redis when clustered) and /ready
// (should a load balancer send traffic here: started, not stopping, and healthy). Both answer 200
// or 503 with what failed; the details of a failure go to the log, not to the caller.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

export type Lifecycle = 'starting' | 'running' | 'stopping';

export interface HealthProbe {
  /** Named checks; each resolves when its dependency answers. */
  checks: Record<string, () => Promise<void>>;
  lifecycle(): Lifecycle;
}

const CHECK_TIMEOUT_MS = 2000;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runChecks(probe: HealthProbe, log: Logger): Promise<{ ok: boolean; checks: Record<string, 'ok' | 'failing'> }> {
  const names = Object.keys(probe.checks);
  const results = await Promise.allSettled(names.map((name) => within(Promise.resolve().then(probe.checks[name]!), CHECK_TIMEOUT_MS)));
  const checks: Record<string, 'ok' | 'failing'> = {};
  results.forEach((result, i) => {
    checks[names[i]!] = result.status === 'fulfilled' ? 'ok' : 'failing';
    if (result.status === 'rejected') log.warn({ check: names[i], err: result.reason }, 'health check failed');
  });
  return { ok: results.every((r) => r.status === 'fulfilled'), checks };
}

export function healthRoutes(app: FastifyInstance, log: Logger, probe: HealthProbe | undefined): void {
  const health = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    if (!probe) return { status: 'ok' };
    const { ok, checks } = await runChecks(probe, log);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'failing', checks });
  };
  app.get('/health', { config: { auth: 'none' } }, health);
  app.get('/health.json', { config: { auth: 'none' } }, health);
  app.get('/ready', { config: { auth: 'none' } }, async (_req, reply) => {
    const lifecycle = probe?.lifecycle() ?? 'running';
    if (lifecycle !== 'running') return reply.code(503).send({ status: lifecycle });
    if (!probe) return { status: 'ready' };
    const { ok, checks } = await runChecks(probe, log);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'failing', checks });
  });
}
