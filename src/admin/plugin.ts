// The operator console at /admin: static pages (plain ES modules, uPlot from its npm package) and
// a JSON API at /admin/api, signed in with its own cookie, apart from QuickBlox tokens. Registered
// on the REST API's Fastify instance, so it is served on the same HTTP(S) ports.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { appRoutes } from './api-apps.js';
import { dialogRoutes } from './api-dialogs.js';
import { liveRoutes } from './api-live.js';
import { checkSameOrigin, currentOperator, requireOperator, signIn, signOut } from './auth.js';
import { AdminError, type AdminDeps } from './context.js';

/** The console's pages, shipped as they are (not compiled): src/admin/public from the package root. */
export const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/admin/public');
/** uPlot's browser build, served from the installed package. */
const UPLOT_DIR = path.dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.esm.js'));

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** A REST plugin (see buildRestApp's `plugins`) that mounts the console at /admin. */
export function adminConsole(deps: AdminDeps) {
  return async (rest: FastifyInstance): Promise<void> => {
    await rest.register(async (app) => consolePlugin(app, deps), { prefix: '/admin' });
  };
}

async function consolePlugin(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  // The REST API's QB-Token check must not apply here: every console route authenticates its own way.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object), auth: 'none' } as typeof route.config;
  });
  app.addHook('onSend', async (_req, reply) => {
    // The REST API allows any origin; the console allows none.
    reply.removeHeader('access-control-allow-origin');
    reply.removeHeader('access-control-expose-headers');
    // A file sent from the store keeps its own, stricter policy (a sandbox).
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
  });
  app.setErrorHandler((err: FastifyError | AdminError, req, reply) => {
    const status = err instanceof AdminError ? err.status : (err.statusCode ?? 500);
    const ours = err instanceof AdminError;
    if (status >= 500 && !ours) deps.log.error({ err, url: req.url }, 'console request failed');
    const message = status >= 500 && !ours ? 'internal error' : status === 429 ? 'too many attempts; wait a minute' : err.message;
    return reply.code(status).send({ error: message });
  });
  app.decorateRequest('operator', null);
  await app.register(cookie);
  await app.register(rateLimit, { global: false });

  await app.register(async (api) => {
    api.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'no such console API' }));
    api.post<{ Body: { email: string; password: string } }>('/signin', {
      config: { rateLimit: { max: deps.config.admin_signins_per_minute, timeWindow: 60_000 } },
      schema: {
        body: {
          type: 'object',
          properties: { email: { type: 'string', minLength: 1, maxLength: 254 }, password: { type: 'string', minLength: 1, maxLength: 128 } },
          required: ['email', 'password'],
        },
      },
    }, async (req, reply) => {
      checkSameOrigin(req);
      const operator = await deps.store.operators.verifyOperator(req.body.email, req.body.password);
      if (!operator) {
        deps.log.warn({ remote: req.ip }, 'console: sign-in failed');
        throw new AdminError(401, 'wrong email or password');
      }
      deps.log.info({ operator: operator.email, remote: req.ip }, 'console: signed in');
      const signedIn = await signIn(deps, req, reply, operator);
      return { operator: operatorView(signedIn.operator), csrf: signedIn.csrf, node: deps.cluster.nodeId };
    });
    api.post('/signout', async (req, reply) => {
      checkSameOrigin(req);
      await signOut(deps, req, reply);
      return reply.code(204).send();
    });
    api.get('/me', async (req) => {
      const signedIn = await currentOperator(deps, req);
      if (!signedIn) throw new AdminError(401, 'sign in first');
      return { operator: operatorView(signedIn.operator), csrf: signedIn.csrf, node: deps.cluster.nodeId };
    });
    await api.register(async (secured) => {
      requireOperator(secured, deps);
      appRoutes(secured, deps);
      dialogRoutes(secured, deps);
      liveRoutes(secured, deps);
    });
  }, { prefix: '/api' });

  await app.register(fastifyStatic, { root: [PUBLIC_DIR, UPLOT_DIR], prefix: '/', index: 'index.html', wildcard: false, cacheControl: false });
}

const operatorView = (o: { id: number; email: string; appIds: number[] | null }) => ({ id: o.id, email: o.email, app_ids: o.appIds });
