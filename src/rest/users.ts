// Users: create (an application session may), list with filter[]/order/paging, lookups, update and
// delete of oneself. Items in lists are wrapped as {"user": …}.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';
import { MAX_FILTER_VALUES } from '../chat/params.js';
import { DuplicateUserError, type User, type UserCondition, type UserField, type UserKey, type UserProfile, type UserQuery } from '../storage/types.js';
import { callerOf, sessionOf, type RestDeps } from './context.js';
import { CUSTOM_DATA_MAX, EMAIL_MAX, FILTER_TEXT_MAX, hasControlOrBidi, isPlausibleEmail, PROFILE_TEXT_MAX, TAG_MAX, TAGS_MAX } from './field-rules.js';
import { intParam, objectParam, positiveId, requestParams, stringParam, type Params } from './params.js';
import { userView } from './user-view.js';
import { AccountService } from '../accounts/service.js';
import { tokenOf } from './auth.js';

const MIN_PASSWORD = 8;
const MAX_PER_PAGE = 100;

/** Request field → profile field, for the fields a client may set. */
const PROFILE_FIELDS: Record<string, keyof UserProfile> = {
  login: 'login',
  email: 'email',
  full_name: 'fullName',
  phone: 'phone',
  website: 'website',
  external_user_id: 'externalUserId',
  facebook_id: 'facebookId',
  twitter_id: 'twitterId',
  blob_id: 'blobId',
  custom_data: 'customData',
  tag_list: 'tags',
};

const FILTER_FIELDS: Record<string, UserField> = {
  id: 'id', login: 'login', email: 'email', full_name: 'fullName', phone: 'phone', website: 'website',
  external_user_id: 'externalUserId', facebook_id: 'facebookId', twitter_id: 'twitterId', blob_id: 'blobId',
  created_at: 'createdAt', updated_at: 'updatedAt', last_request_at: 'lastRequestAt',
};
const DATE_FIELDS = new Set<UserField>(['createdAt', 'updatedAt', 'lastRequestAt']);
const FILTER_OPS = new Set(['gt', 'lt', 'ge', 'le', 'eq', 'ne', 'between', 'in']);

const listOf = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.flatMap(listOf);
  if (value === undefined || value === null) return [];
  return String(value).split(',').map((s) => s.trim()).filter(Boolean);
};

function profileFrom(input: Params): UserProfile {
  const profile: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(PROFILE_FIELDS)) {
    if (!(key in input)) continue;
    const raw = input[key];
    if (field === 'tags') {
      profile.tags = tagsFrom(raw);
      continue;
    }
    if (field === 'customData' && raw !== null && typeof raw === 'object') {
      const json = JSON.stringify(raw);
      if (json.length > CUSTOM_DATA_MAX) throw tooLong(key, CUSTOM_DATA_MAX);
      profile.customData = json;
      continue;
    }
    const max = FIELD_MAX[field] ?? PROFILE_TEXT_MAX;
    const given = stringParam(input, key);
    if (given !== undefined && given.length > max + 1024) throw tooLong(key, max); // before trimming or any pattern
    const text = given?.trim();
    if (text && text.length > max) throw tooLong(key, max);
    if (field === 'blobId') {
      if (text && !/^\d{1,15}$/.test(text)) throw new ApiError('invalidField', 'is not a number', key);
      profile.blobId = text ? Number(text) : null;
    } else {
      profile[field] = text ? text : null;
    }
  }
  const p = profile as UserProfile;
  if (p.login !== undefined) {
    if (!p.login) throw new ApiError('invalidField', "can't be blank", 'login');
    if (p.login.length < 3) throw new ApiError('invalidField', 'is too short (minimum is 3 characters)', 'login');
    if (p.login.length > 64) throw new ApiError('invalidField', 'is too long (maximum is 64 characters)', 'login');
    if (hasControlOrBidi(p.login)) throw new ApiError('invalidField', 'contains invalid characters', 'login');
  }
  if (p.email && !isPlausibleEmail(p.email)) throw new ApiError('invalidField', 'is invalid', 'email');
  if (p.fullName && hasControlOrBidi(p.fullName)) throw new ApiError('invalidField', 'contains invalid characters', 'full_name');
  if (p.fullName && p.fullName.length > 200) throw new ApiError('invalidField', 'is too long (maximum is 200 characters)', 'full_name');
  return p;
}

const FIELD_MAX: Partial<Record<keyof UserProfile, number>> = { login: 64, fullName: 200, email: EMAIL_MAX, customData: CUSTOM_DATA_MAX };

const tooLong = (field: string, max: number) => new ApiError('invalidField', `is too long (maximum is ${max} characters)`, field);

function tagsFrom(raw: unknown): string[] {
  const tags = listOf(raw);
  if (tags.length > TAGS_MAX) throw new ApiError('invalidField', `has too many tags (maximum is ${TAGS_MAX})`, 'tag_list');
  if (tags.some((t) => t.length > TAG_MAX)) throw tooLong('tag_list', TAG_MAX);
  return tags;
}

function checkPassword(password: string | undefined): string {
  if (!password) throw new ApiError('invalidField', "can't be blank", 'password');
  if (password.length < MIN_PASSWORD) throw new ApiError('invalidField', `is too short (minimum is ${MIN_PASSWORD} characters)`, 'password');
  return password;
}

const alreadyTaken = (err: unknown): never => {
  if (err instanceof DuplicateUserError) throw new ApiError('invalidField', 'has already been taken', err.field);
  throw err;
};

/** `filter[]=<type> <field> <op> <value>` (the SDK joins with spaces; forms may carry `+`). */
function conditionFrom(text: string): UserCondition {
  if (text.length > FILTER_TEXT_MAX) throw new ApiError('invalidField', `is too long (maximum is ${FILTER_TEXT_MAX} characters)`, 'filter');
  const parts = text.replace(/\+/g, ' ').trim().split(/\s+/);
  const [type, name, op] = parts;
  const value = parts.slice(3).join(' ');
  const field = FILTER_FIELDS[name ?? ''];
  if (parts.length < 4 || !field || !FILTER_OPS.has(op ?? '') || !['string', 'number', 'date'].includes(type ?? '')) {
    throw new ApiError('badRequest', `Incorrect filter "${text}".`, 'filter');
  }
  const values: (string | number)[] = op === 'in' || op === 'between' ? listOf(value) : [value];
  if (values.length > MAX_FILTER_VALUES) throw new ApiError('invalidField', `has too many values (maximum is ${MAX_FILTER_VALUES})`, 'filter');
  if (op === 'between' && values.length !== 2) throw new ApiError('badRequest', `Incorrect filter "${text}".`, 'filter');
  const converted = values.map((v) => {
    if (DATE_FIELDS.has(field)) {
      const seconds = Number(v);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(String(v));
      if (!Number.isFinite(ms)) throw new ApiError('badRequest', `Incorrect filter "${text}".`, 'filter');
      return ms;
    }
    if (type === 'number' || field === 'id' || field === 'blobId') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new ApiError('badRequest', `Incorrect filter "${text}".`, 'filter');
      return field === 'id' || field === 'blobId' ? n : String(v);
    }
    return String(v);
  });
  return { field, op: op as UserCondition['op'], values: converted };
}

function orderFrom(text: string | undefined): UserQuery['order'] {
  if (!text) return undefined;
  if (text.length > 200) throw new ApiError('badRequest', 'Incorrect order.', 'order');
  const [direction, , name] = text.replace(/\+/g, ' ').trim().split(/\s+/);
  const field = FILTER_FIELDS[name ?? ''];
  if (!field || (direction !== 'asc' && direction !== 'desc')) throw new ApiError('badRequest', `Incorrect order "${text}".`, 'order');
  return { field, desc: direction === 'desc' };
}

export function userRoutes(app: FastifyInstance, deps: RestDeps): void {
  const accounts = deps.store.accounts;
  const changes = deps.accounts ?? new AccountService(deps.store, (err, event) => deps.log.error({ err, event }, 'account event listener failed'));

  const page = async (appId: number, params: Params, query: Omit<UserQuery, 'limit' | 'offset'>) => {
    const perPage = Math.max(1, intParam(params, 'per_page', 10, MAX_PER_PAGE));
    const current = Math.max(1, intParam(params, 'page', 1));
    const { total, users } = await accounts.queryUsers(appId, { ...query, limit: perPage, offset: (current - 1) * perPage });
    return { current_page: current, per_page: perPage, total_entries: total, items: users.map((u) => ({ user: userView(u) })) };
  };
  const one = (user: User | null) => {
    if (!user) throw new ApiError('notFound');
    return { user: userView(user) };
  };
  const byKey = (key: UserKey, param: string) => async (req: FastifyRequest) => {
    const value = stringParam(requestParams(req), param);
    if (!value) throw new ApiError('invalidField', "can't be blank", param);
    return one(await accounts.getUserBy(sessionOf(req).appId, key, value));
  };
  const own = (req: FastifyRequest, user: User | null): User => {
    if (!user) throw new ApiError('notFound');
    if (user.id !== callerOf(req).userId) throw new ApiError('forbidden');
    return user;
  };

  app.post('/users.json', { config: { auth: 'session' } }, async (req, reply) => {
    const input = objectParam(requestParams(req), 'user');
    const password = checkPassword(stringParam(input, 'password'));
    const profile = profileFrom(input);
    const login = profile.login ?? profile.email;
    if (!login) throw new ApiError('invalidField', "can't be blank", 'login');
    const user = await accounts.createUser(sessionOf(req).appId, { ...profile, login, password }).catch(alreadyTaken);
    return reply.code(201).send({ user: userView(user) });
  });

  app.get('/users.json', { config: { auth: 'session' } }, async (req) => {
    const params = requestParams(req);
    const filters = params.filter === undefined ? [] : Array.isArray(params.filter) ? params.filter : [params.filter];
    const conditions = filters.map((f) => conditionFrom(String(f)));
    return page(sessionOf(req).appId, params, { conditions, order: orderFrom(stringParam(params, 'order')) });
  });

  app.get('/users/by_login.json', { config: { auth: 'session' } }, byKey('login', 'login'));
  app.get('/users/by_email.json', { config: { auth: 'session' } }, byKey('email', 'email'));
  app.get('/users/by_facebook_id.json', { config: { auth: 'session' } }, byKey('facebookId', 'facebook_id'));
  app.get('/users/by_twitter_id.json', { config: { auth: 'session' } }, byKey('twitterId', 'twitter_id'));
  app.get('/users/phone.json', { config: { auth: 'session' } }, byKey('phone', 'phone'));

  app.get('/users/by_full_name.json', { config: { auth: 'session' } }, async (req) => {
    const params = requestParams(req);
    const name = stringParam(params, 'full_name')?.trim();
    if (!name) throw new ApiError('invalidField', "can't be blank", 'full_name');
    return page(sessionOf(req).appId, params, { conditions: [{ field: 'fullName', op: 'contains', values: [name] }] });
  });

  app.get('/users/by_tags.json', { config: { auth: 'session' } }, async (req) => {
    const params = requestParams(req);
    const tags = listOf(params.tags);
    if (tags.length === 0) throw new ApiError('invalidField', "can't be blank", 'tags');
    return page(sessionOf(req).appId, params, { anyTag: tags });
  });

  // GET /users/password/reset.json lives in password-reset.ts (it sends mail).

  app.get<{ Params: { id: string } }>('/users/external/:id.json', { config: { auth: 'session' } }, async (req) =>
    one(await accounts.getUserBy(sessionOf(req).appId, 'externalUserId', req.params.id)));

  app.delete<{ Params: { id: string } }>('/users/external/:id.json', async (req, reply) => {
    const user = own(req, await accounts.getUserBy(callerOf(req).appId, 'externalUserId', req.params.id));
    await changes.deleteUser(user.appId, user.id);
    return reply.code(200).send();
  });

  app.get<{ Params: { id: string } }>('/users/:id.json', { config: { auth: 'session' } }, async (req) =>
    one(await accounts.getUser(sessionOf(req).appId, positiveId(req.params.id))));

  app.put<{ Params: { id: string } }>('/users/:id.json', async (req) => {
    const caller = callerOf(req);
    const user = own(req, await accounts.getUser(caller.appId, positiveId(req.params.id)));
    const input = objectParam(requestParams(req), 'user');
    const profile = profileFrom(input);
    const password = stringParam(input, 'password');
    if (password !== undefined) {
      checkPassword(password);
      const old = stringParam(input, 'old_password');
      if (!old || !(await accounts.verifyPassword(caller.appId, user.id, old))) throw new ApiError('invalidField', 'is incorrect', 'old_password');
    }
    const updated = await accounts.updateUser(caller.appId, user.id, profile).catch(alreadyTaken);
    if (password !== undefined) await changes.changePassword(caller.appId, user.id, password, { token: tokenOf(req) });
    return one(updated);
  });

  app.delete<{ Params: { id: string } }>('/users/:id.json', async (req, reply) => {
    const user = own(req, await accounts.getUser(callerOf(req).appId, positiveId(req.params.id)));
    await changes.deleteUser(user.appId, user.id);
    return reply.code(200).send();
  });
}
