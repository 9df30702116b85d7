// Serving /metrics: on a listener of its own (metrics_port, nothing else on it), and/or on the
// HTTP(S) ports behind a bearer token (metrics_token).
import { timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { registry } from './index.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** True when `header` is `Bearer <token>` (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

/** GET /metrics on the REST app, for callers presenting the token. */
export function metricsRoute(token: string) {
  return (app: FastifyInstance): void => {
    app.get('/metrics', { config: { auth: 'none' } }, async (req, reply) => {
      if (!bearerMatches(req.headers.authorization, token)) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer realm="metrics"').send({ errors: ['Unauthorized'] });
      }
      return reply.header('content-type', registry.contentType).send(await registry.metrics());
    });
  };
}

/** A server answering GET /metrics and nothing else. */
export function metricsServer(): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
}
