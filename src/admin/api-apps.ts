// Console API: applications (create, keys, rotate the auth secret, delete) and their users
// (search, create, edit, reset password, delete). Both go through the account service: deleting a
// user ends their REST tokens and their XMPP streams on every node; a password reset ends their REST
// tokens and their XMPP streams on every node with <reset/>, as Prosody does (src/cluster-sessions.ts).
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BlobFiles } from '../storage/blob-files.js';
import { sweepOrphanBlobFiles } from '../storage/blob-sweeper.js';
import { DuplicateUserError, type Application, type User, type UserField } from '../storage/types.js';
import { operatorOf } from './auth.js';
import { AdminError, mayUse, notFound, type AdminDeps } from './context.js';

const ID = { type: 'string', pattern: '^[0-9]{1,15}$' } as const;
const APP_PARAMS = { type: 'object', properties: { appId: ID }, required: ['appId'] } as const;
const USER_PARAMS = { type: 'object', properties: { appId: ID, userId: ID }, required: ['appId', 'userId'] } as const;
const TEXT = (max: number) => ({ type: 'string', maxLength: max }) as const;
const NULLABLE_TEXT = (max: number) => ({ type: ['string', 'null'], maxLength: max }) as const;
const PASSWORD = { type: 'string', minLength: 8, maxLength: 128 } as const;
const SEARCH_FIELDS: Record<string, UserField> = { login: 'login', email: 'email', full_name: 'fullName', external_user_id: 'externalUserId' };

export const appView = (a: Application) => ({
  id: a.id, name: a.name, auth_key: a.authKey, auth_secret: a.authSecret, account_key: a.accountKey, created_at: a.createdAt.toISOString(),
});

const userView = (u: User, online: number) => ({
  id: u.id, login: u.login, email: u.email, full_name: u.fullName, phone: u.phone, external_user_id: u.externalUserId,
  tags: u.tags, last_request_at: u.lastRequestAt?.toISOString() ?? null, created_at: u.createdAt.toISOString(), online,
});

/** The application in the route, when it exists and the operator may use it (404 either way otherwise). */
export async function appOf(deps: AdminDeps, req: FastifyRequest): Promise<Application> {
  const appId = Number((req.params as { appId: string }).appId);
  const app = mayUse(operatorOf(req), appId) ? await deps.store.accounts.getApplication(appId) : null;
  if (!app) throw notFound('application');
  return app;
}

export function appRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const accounts = deps.store.accounts;
  const online = (u: User) => deps.core.sessions.resources(`${u.id}-${u.appId}@${deps.config.domain}`).length;

  app.get('/apps', async (req) => {
    const operator = operatorOf(req);
    return { items: (await accounts.listApplications()).filter((a) => mayUse(operator, a.id)).map(appView) };
  });

  app.post<{ Body: { name?: string } }>('/apps', { schema: { body: { type: 'object', properties: { name: TEXT(100) }, additionalProperties: false } } }, async (req, reply) => {
    if (operatorOf(req).appIds !== null) throw new AdminError(403, 'only operators of every application may create applications');
    const created = await accounts.createApplication({ name: req.body?.name?.trim() || undefined });
    deps.log.info({ app: created.id, operator: operatorOf(req).email }, 'console: application created');
    return reply.code(201).send(appView(created));
  });

  app.get('/apps/:appId', { schema: { params: APP_PARAMS } }, async (req) => appView(await appOf(deps, req)));

  app.post('/apps/:appId/rotate-secret', { schema: { params: APP_PARAMS } }, async (req) => {
    const target = await appOf(deps, req);
    const rotated = await accounts.rotateAuthSecret(target.id);
    if (!rotated) throw notFound('application');
    deps.log.info({ app: target.id, operator: operatorOf(req).email }, 'console: auth secret rotated');
    return appView(rotated);
  });

  // The body must repeat the application's name: the console asks the operator to type it.
  app.delete<{ Body: { confirm: string } }>('/apps/:appId', {
    schema: { params: APP_PARAMS, body: { type: 'object', properties: { confirm: TEXT(100) }, required: ['confirm'] } },
  }, async (req, reply) => {
    const target = await appOf(deps, req);
    if (req.body.confirm !== target.name) throw new AdminError(400, 'type the application name to confirm');
    await accounts.deleteApplication(target.id);
    // After the deletion, so that no stream can log in again meanwhile: on every node, <not-authorized/>.
    await deps.sessions.endApplication(target.id);
    const { removed } = await sweepOrphanBlobFiles(new BlobFiles(join(deps.config.data_dir, 'blobs')), deps.store.blobs, { graceMs: 0 });
    deps.log.warn({ app: target.id, operator: operatorOf(req).email, blobFilesRemoved: removed }, 'console: application deleted');
    return reply.code(204).send();
  });

  app.get<{ Querystring: { q?: string; field?: string; offset?: string } }>('/apps/:appId/users', {
    schema: {
      params: APP_PARAMS,
      querystring: { type: 'object', properties: { q: TEXT(100), field: { enum: Object.keys(SEARCH_FIELDS) }, offset: { type: 'string', pattern: '^[0-9]{1,9}$' } } },
    },
  }, async (req) => {
    const target = await appOf(deps, req);
    const q = req.query.q?.trim() ?? '';
    const offset = Number(req.query.offset ?? 0);
    if (/^[0-9]{1,15}$/.test(q)) {
      const byId = await accounts.getUser(target.id, Number(q));
      if (byId) return { total: 1, items: [userView(byId, online(byId))] };
    }
    const conditions = q ? [{ field: SEARCH_FIELDS[req.query.field ?? 'login'], op: 'contains' as const, values: [q] }] : [];
    const { total, users } = await accounts.queryUsers(target.id, { conditions, order: { field: 'id', desc: true }, limit: 50, offset });
    return { total, items: users.map((u) => userView(u, online(u))) };
  });

  app.post<{ Body: { login: string; password: string; email?: string | null; full_name?: string | null } }>('/apps/:appId/users', {
    schema: {
      params: APP_PARAMS,
      body: {
        type: 'object',
        properties: { login: { type: 'string', minLength: 1, maxLength: 50 }, password: PASSWORD, email: NULLABLE_TEXT(255), full_name: NULLABLE_TEXT(255) },
        required: ['login', 'password'],
        additionalProperties: false,
      },
    },
  }, async (req, reply) => {
    const target = await appOf(deps, req);
    const b = req.body;
    try {
      const user = await accounts.createUser(target.id, { login: b.login.trim(), password: b.password, email: b.email?.trim() || null, fullName: b.full_name?.trim() || null });
      return reply.code(201).send(userView(user, 0));
    } catch (err) {
      if (err instanceof DuplicateUserError) throw new AdminError(409, err.message);
      throw err;
    }
  });

  app.patch<{ Body: { login?: string; email?: string | null; full_name?: string | null; phone?: string | null; tags?: string[] } }>('/apps/:appId/users/:userId', {
    schema: {
      params: USER_PARAMS,
      body: {
        type: 'object',
        properties: {
          login: { type: 'string', minLength: 1, maxLength: 50 }, email: NULLABLE_TEXT(255), full_name: NULLABLE_TEXT(255), phone: NULLABLE_TEXT(50),
          tags: { type: 'array', maxItems: 20, items: { type: 'string', pattern: '^[^,]{1,64}$' } },
        },
        additionalProperties: false,
      },
    },
  }, async (req) => {
    const target = await appOf(deps, req);
    const b = req.body;
    const blank = (v: string | null | undefined) => (v === undefined ? undefined : v?.trim() || null);
    try {
      const user = await accounts.updateUser(target.id, Number((req.params as { userId: string }).userId), {
        login: b.login?.trim(), email: blank(b.email), fullName: blank(b.full_name), phone: blank(b.phone), tags: b.tags,
      });
      if (!user) throw notFound('user');
      return userView(user, online(user));
    } catch (err) {
      if (err instanceof DuplicateUserError) throw new AdminError(409, err.message);
      throw err;
    }
  });

  app.post<{ Body: { password: string } }>('/apps/:appId/users/:userId/password', {
    schema: { params: USER_PARAMS, body: { type: 'object', properties: { password: PASSWORD }, required: ['password'], additionalProperties: false } },
  }, async (req) => {
    const target = await appOf(deps, req);
    const userId = Number((req.params as { userId: string }).userId);
    if (!(await accounts.getUser(target.id, userId))) throw notFound('user');
    // The account service ends the user's REST tokens (a reset is often for a compromised account).
    const tokens = (await deps.store.sessions.userSessions(target.id, userId, new Date(), 1000)).length;
    const user = { appId: target.id, userId };
    const closed = await deps.sessions.count(user);
    await deps.accounts.changePassword(target.id, userId, req.body.password);
    // Its passwordChanged listener ends the user's streams here at once and tells the other nodes: answer once they were told.
    await deps.sessions.resetUnderWay(user);
    deps.log.info({ app: target.id, user: userId, operator: operatorOf(req).email }, 'console: password reset');
    return { closed_sessions: closed, revoked_tokens: tokens };
  });

  app.delete('/apps/:appId/users/:userId', { schema: { params: USER_PARAMS } }, async (req) => {
    const target = await appOf(deps, req);
    const userId = Number((req.params as { userId: string }).userId);
    const live = await deps.sessions.count({ appId: target.id, userId });
    // The account service ends the REST sessions, and its userDeleted event the XMPP streams on every node (not-authorized).
    if (!(await deps.accounts.deleteUser(target.id, userId))) throw notFound('user');
    deps.log.info({ app: target.id, user: userId, operator: operatorOf(req).email }, 'console: user deleted');
    return { closed_sessions: live };
  });
}
