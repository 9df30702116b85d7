// Console API for what is happening now: the metrics the overview charts (the same registry
// /metrics serves), recent warnings and errors, and the XMPP streams on every node of the cluster.
import type { FastifyInstance } from 'fastify';
import { operatorOf } from './auth.js';
import { AdminError, type AdminDeps } from './context.js';

/** The families the overview draws; everything else in the registry stays out of the console's payload. */
export const OVERVIEW_METRICS = [
  'parley_connections', 'parley_messages_total', 'parley_delivery_latency_seconds', 'parley_http_requests_total',
  'parley_push_total', 'nodejs_eventloop_lag_seconds', 'parley_store_size_bytes',
];

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

  // Every node's streams: this node's at once, the others' as they answer (a node that does not within
  // two seconds is named in `missing`, and the page shows what came).
  app.get('/sessions', async (req) => {
    const { lists, missing } = await deps.sessions.listAll(operatorOf(req).appIds);
    return {
      node,
      clustered: deps.cluster.enabled,
      total: lists.reduce((sum, l) => sum + l.total, 0),
      nodes: lists.map((l) => ({ node: l.node, total: l.total, listed: l.items.length })),
      missing,
      items: lists.flatMap((l) => l.items),
    };
  });

  // `node` (from the list) names the node holding the stream; without it, this node. That node checks
  // the operator's applications itself: another application's stream is "not found" there too.
  app.delete<{ Params: { id: string }; Querystring: { node?: string } }>('/sessions/:id', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } }, required: ['id'] },
      querystring: { type: 'object', properties: { node: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\t\\n\\r]+$' } } },
    },
  }, async (req, reply) => {
    const operator = operatorOf(req);
    const holder = req.query.node ?? node;
    const outcome = await deps.sessions.close(holder, req.params.id, operator.appIds);
    if (outcome === 'no-answer') throw new AdminError(504, `node ${holder} did not answer`);
    if (outcome === 'not-found') throw new AdminError(404, 'session not found');
    deps.log.info({ session: req.params.id, node: holder, operator: operator.email }, 'console: session disconnected');
    return reply.code(204).send();
  });
}
