// One log line and one metrics sample per REST request: method, the route's pattern (never the URL:
// its query may carry a token), status and time, with the client's address. Failed sign-ins
// (signature, timestamp, nonce, password) are counted and logged as authentication failures.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiError, type ApiErrorCode } from '../chat/errors.js';
import { metrics } from '../metrics/index.js';

const AUTH_FAILURES: ReadonlySet<ApiErrorCode> = new Set(['badSignature', 'badTimestamp', 'replayedNonce', 'unauthorized']);
const UNMATCHED = '(unmatched)';
/** Polled by load balancers and Prometheus: logged at debug only. */
const QUIET: ReadonlySet<string> = new Set(['/health', '/health.json', '/ready', '/metrics']);

declare module 'fastify' {
  interface FastifyRequest {
    errorCode: ApiErrorCode | null;
  }
}

export function registerRequestLog(app: FastifyInstance, log: Logger): void {
  app.decorateRequest('errorCode', null);
  app.addHook('onError', async (req, _reply, err) => {
    if (err instanceof ApiError) req.errorCode = err.code;
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.is404 ? UNMATCHED : (req.routeOptions.url ?? UNMATCHED);
    const labels = { route, method: req.method, status: String(reply.statusCode) };
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, seconds);
    const line = { method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, remote: req.ip };
    if (req.errorCode && AUTH_FAILURES.has(req.errorCode)) {
      metrics.authFailures.inc({ via: 'rest' });
      log.warn({ ...line, error: req.errorCode }, 'REST authentication failed');
    } else if (QUIET.has(route)) {
      log.debug(line, 'REST request');
    } else {
      log.info(line, 'REST request');
    }
  });
}
