// The REST API: one Fastify instance with QuickBlox's conventions (bodies as JSON, bracket forms
// or multipart; errors as QuickBlox JSON; CORS for its headers; QB-Token sessions), and one
// plugin per resource.
import type http from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import { ApiError } from '../chat/errors.js';
import { registerAuth } from './auth.js';
import { registerPipelining } from './pipelining.js';
import { qbClientError, qbFrameworkError } from './client-errors.js';
import { ThrottledError } from './login-throttle.js';
import { StoreBusyError } from '../storage/busy.js';
import type { RestDeps } from './context.js';
import { parseForm } from './params.js';
import { sessionRoutes } from './session.js';
import { userRoutes } from './users.js';
import { healthRoutes, type HealthProbe } from './health.js';
import { registerRequestLog } from './request-log.js';

export interface RestAppOptions {
  /** Serve on these servers (the HTTP and HTTPS listeners that also carry XMPP over WebSocket). */
  servers?: http.Server[];
  /** Extra resource plugins (chat, blobs) registered after the core ones. */
  plugins?: ((app: FastifyInstance, deps: RestDeps) => void | Promise<void>)[];
  /** What /health and /ready check; without it they answer ok. */
  health?: HealthProbe;
}

const QB_HEADERS = ['QB-Token', 'QB-SDK', 'QB-OS', 'QB-Account-Key', 'QuickBlox-REST-API-Version', 'Content-Type', 'On-Behalf-Of', 'Authorization'];

export async function buildRestApp(deps: RestDeps, options: RestAppOptions = {}): Promise<FastifyInstance> {
  const servers = options.servers ?? [];
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // X-Forwarded-For is believed only from the configured proxies; req.ip is then the client's.
    trustProxy: trustedProxies(deps.config.trusted_proxies),
    // maxParamLength: a path may list up to 100 ObjectIds (`/data/C/<id>,<id>….json`, `/chat/Message/<ids>.json`).
    routerOptions: { querystringParser: parseForm, ignoreTrailingSlash: true, maxParamLength: 2500 },
    frameworkErrors: qbFrameworkError,
    clientErrorHandler: qbClientError,
    ...(servers.length > 0
      ? {
          serverFactory: (handler: http.RequestListener) => {
            for (const server of servers) server.on('request', handler);
            // Fastify listens for client errors on the server it is given; the others get the same answer.
            for (const server of servers.slice(1)) server.on('clientError', qbClientError);
            return servers[0];
          },
        }
      : {}),
  });

  registerPipelining(app, deps.config);
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (!text.trim()) return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ApiError('badRequest', 'The request body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseForm(String(body)));
  });
  // The SDK sends a form content type on bodiless GETs; anything unknown is read as no parameters.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, _body, done) => done(null, undefined));

  await app.register(cors, {
    origin: '*',
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: QB_HEADERS,
    exposedHeaders: ['QB-Token-ExpirationDate', 'QuickBlox-REST-API-Version'],
    maxAge: 86400,
  });

  app.addHook('onSend', async (_req, reply) => {
    reply.header('QuickBlox-REST-API-Version', '0.1.1');
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500 && apiError.code !== 'busy') deps.log.error({ err, method: req.method, route: req.routeOptions.url }, 'REST request failed');
    if (apiError.code === 'unauthorized' || apiError.code === 'noSession') reply.header('WWW-Authenticate', 'OAuth realm=users');
    if (err instanceof ThrottledError || err instanceof StoreBusyError) reply.header('Retry-After', String(err.retryAfterSeconds));
    return reply.code(apiError.status).send(apiError.body());
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(new ApiError('notFound').body()));

  registerRequestLog(app, deps.log);
  registerAuth(app, deps);
  healthRoutes(app, deps.log, options.health);
  sessionRoutes(app, deps);
  userRoutes(app, deps);
  for (const plugin of options.plugins ?? []) await plugin(app, deps);
  await app.ready();
  return app;
}

function trustedProxies(setting: string | null): string[] | false {
  const list = (setting ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.length > 0 ? list : false;
}

function toApiError(err: FastifyError | ApiError): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreBusyError) return new ApiError('busy');
  const status = (err as FastifyError).statusCode ?? 500;
  if (status === 413) return new ApiError('tooLarge', 'Request body is too large');
  if (status === 429) return new ApiError('tooManyRequests');
  if (status >= 400 && status < 500) return new ApiError('badRequest', err.message);
  return new ApiError('internal');
}
