// Console API for what is happening now: the metrics the overview charts (the same registry
// /metrics serves), recent warnings and errors, and the streams connected to this node.
import type { FastifyInstance } from 'fastify';
import type { C2sSession } from '../core/session.js';
import { StreamError } from '../xmpp/errors.js';
import { operatorOf } from './auth.js';
import { AdminError, mayUse, type AdminDeps } from './context.js';

/** The families the overview draws; everything else in the registry stays out of the console's payload. */
export const OVERVIEW_METRICS = [
  'parley_connections', 'parley_messages_total', 'parley_delivery_latency_seconds', 'parley_http_requests_total',
  'parley_push_total', 'nodejs_eventloop_lag_seconds', 'parley_store_size_bytes',
];

/** The sessions page lists at most this many streams (the total is given alongside). */
const MAX_LISTED = 500;

const sessionView = (s: C2sSession, node: string) => ({
  id: s.id,
  jid: s.jid?.toString() ?? null,
  app_id: s.user?.appId ?? null,
  user_id: s.user?.userId ?? null,
  state: s.state,
  available: s.available,
  detached: s.detached,
  transport: s.connection.kind,
  secure: s.connection.secure,
  remote_address: s.connection.remoteAddress,
  last_activity: new Date(s.lastActivity).toISOString(),
  node,
});

export function liveRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const node = deps.cluster.nodeId;

  app.get('/metrics', async () => {
    const families = await deps.metrics.getMetricsAsJSON();
    return { time: Date.now(), node, metrics: families.filter((f) => OVERVIEW_METRICS.includes(f.name)) };
  });

  app.get('/logs', async (req) => {
    // Log lines may name applications and users of any application: only unrestricted operators read them.
    if (operatorOf(req).appIds !== null) throw new AdminError(403, 'the log is for operators of every application');
    return { items: deps.logRing?.recent() ?? [] };
  });

  app.get('/sessions', async (req) => {
    const operator = operatorOf(req);
    const items = [];
    let total = 0;
    for (const s of deps.core.sessions.connections()) {
      if (!s.user || !mayUse(operator, s.user.appId)) continue;
      if (++total <= MAX_LISTED) items.push(sessionView(s, node));
    }
    return { node, clustered: deps.cluster.enabled, total, items };
  });

  app.delete<{ Params: { id: string } }>('/sessions/:id', {
    schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } }, required: ['id'] } },
  }, async (req, reply) => {
    const operator = operatorOf(req);
    const session = [...deps.core.sessions.connections()].find((s) => s.id === req.params.id);
    if (!session || !session.user || !mayUse(operator, session.user.appId)) throw new AdminError(404, 'session not found');
    session.close(new StreamError('policy-violation', 'disconnected by an operator'));
    deps.log.info({ session: session.id, jid: session.jid?.toString(), operator: operator.email }, 'console: session disconnected');
    return reply.code(204).send();
  });
}
