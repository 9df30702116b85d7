// An event's recipients: user ids, user tags (any / all / exclude) and external user ids, each a
// comma string or a list, resolved to the application's users.
import { ApiError } from '../chat/errors.js';
import type { Params } from '../chat/params.js';
import type { PushRecipients } from '../storage/push-types.js';
import type { Store, User } from '../storage/types.js';

export const MAX_RECIPIENT_IDS = 1000;
export const MAX_TAGS = 100;
/** The most users one event reaches by tags (a bound on the work one request can cause). */
export const MAX_TAG_MATCHES = 10_000;

const isRecord = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);

function list(value: unknown, field: string, max: number): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (isRecord(value)) items = Object.values(value);
  else if (typeof value === 'string' || typeof value === 'number') items = String(value).split(',');
  else throw new ApiError('invalidField', 'is invalid', field);
  const out = items.map((v) => (typeof v === 'string' || typeof v === 'number' ? String(v).trim() : null));
  if (out.some((v) => v === null)) throw new ApiError('invalidField', 'is invalid', field);
  const values = (out as string[]).filter((v) => v !== '');
  if (values.length > max) throw new ApiError('invalidField', `has too many values (maximum is ${max})`, field);
  return values.length ? values : undefined;
}

/** The recipients named in an event's `user` and `external_user` parameters. */
export function parseRecipients(event: Params): PushRecipients {
  const user = isRecord(event.user) ? event.user : {};
  const tags = isRecord(user.tags) ? user.tags : {};
  const external = isRecord(event.external_user) ? event.external_user : {};
  const ids = list(user.ids, 'user_ids', MAX_RECIPIENT_IDS)?.map((v) => {
    if (!/^[1-9][0-9]{0,15}$/.test(v)) throw new ApiError('invalidField', 'is invalid', 'user_ids');
    return Number(v);
  });
  const recipients: PushRecipients = {};
  if (ids) recipients.userIds = [...new Set(ids)];
  const any = list(tags.any, 'tags_any', MAX_TAGS);
  const all = list(tags.all, 'tags_all', MAX_TAGS);
  const exclude = list(tags.exclude, 'tags_exclude', MAX_TAGS);
  const externalIds = list(external.ids, 'external_user_ids', MAX_RECIPIENT_IDS);
  if (any) recipients.tagsAny = any;
  if (all) recipients.tagsAll = all;
  if (exclude) recipients.tagsExclude = exclude;
  if (externalIds) recipients.externalIds = [...new Set(externalIds)];
  return recipients;
}

/** QuickBlox's `tag_query` text for an event. */
export function tagQuery(r: PushRecipients): string | null {
  const parts = [r.tagsAny && `any:${r.tagsAny.join(',')}`, r.tagsAll && `all:${r.tagsAll.join(',')}`, r.tagsExclude && `exclude:${r.tagsExclude.join(',')}`];
  const text = parts.filter(Boolean).join(';');
  return text || null;
}

async function usersWithAnyTag(store: Store, appId: number, tags: string[]): Promise<User[]> {
  const users: User[] = [];
  for (let offset = 0; users.length < MAX_TAG_MATCHES; ) {
    const page = await store.accounts.queryUsers(appId, { anyTag: tags, limit: 500, offset });
    users.push(...page.users);
    offset += page.users.length;
    if (page.users.length < 500) break;
  }
  return users;
}

async function everyUser(store: Store, appId: number): Promise<User[]> {
  const users: User[] = [];
  while (users.length < MAX_TAG_MATCHES) {
    const page = await store.accounts.listUsers(appId, { limit: 500, offset: users.length });
    users.push(...page);
    if (page.length < 500) break;
  }
  return users;
}

/** The application's users the recipients name, ascending by id; unknown ids and other applications' users drop out. */
export async function resolveRecipients(store: Store, appId: number, r: PushRecipients): Promise<number[]> {
  const found = new Set<number>();
  for (const id of r.userIds ?? []) if (await store.accounts.getUser(appId, id)) found.add(id);
  for (const external of r.externalIds ?? []) {
    const user = await store.accounts.getUserBy(appId, 'externalUserId', external);
    if (user) found.add(user.id);
  }
  if (r.tagsAny || r.tagsAll || r.tagsExclude) {
    const candidates = r.tagsAny || r.tagsAll ? await usersWithAnyTag(store, appId, [...(r.tagsAny ?? r.tagsAll ?? [])]) : await everyUser(store, appId);
    for (const u of candidates) {
      if (r.tagsAll && !r.tagsAll.every((t) => u.tags.includes(t))) continue;
      if (r.tagsAny && !r.tagsAny.some((t) => u.tags.includes(t))) continue;
      found.add(u.id);
    }
  }
  if (r.tagsExclude) {
    const excluded = await usersWithAnyTag(store, appId, r.tagsExclude);
    for (const u of excluded) found.delete(u.id);
  }
  return [...found].sort((a, b) => a - b);
}
