// Per-record permissions: parsing QuickBlox's `permissions[read][access]=owner` form (or JSON),
// the defaults (read open, update and delete owner), the JSON the API echoes, and the check for
// operations on records already loaded (lists are filtered by the store with the same rules).
import { ApiError } from '../chat/errors.js';
import { parseList, parseInteger } from '../chat/params.js';
import type { Access, CustomRecord, Permission, RecordAction, RecordPermissions, Viewer } from '../storage/custom-objects-types.js';

const ACCESS: readonly Access[] = ['open', 'owner', 'open_for_users_ids', 'open_for_groups'];
const ACTIONS: readonly RecordAction[] = ['read', 'update', 'delete'];
export const MAX_PERMISSION_ITEMS = 100;

const level = (access: Access): Permission => ({ access, userIds: [], groups: [] });
export const DEFAULT_PERMISSIONS: RecordPermissions = { read: level('open'), update: level('owner'), delete: level('owner') };

const bad = (action: string, text = 'is invalid') => new ApiError('invalidField', text, `permissions.${action}`);

function parseOne(action: RecordAction, raw: unknown): Permission {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(action);
  const input = raw as Record<string, unknown>;
  const access = input.access as Access;
  if (!ACCESS.includes(access)) throw bad(action, `access must be one of ${ACCESS.join(', ')}`);
  const items = (key: string) => {
    const list = parseList(input[key]) ?? [];
    if (list.length > MAX_PERMISSION_ITEMS) throw bad(action, `lists more than ${MAX_PERMISSION_ITEMS} ${key}`);
    return list;
  };
  if (access === 'open_for_users_ids') {
    const userIds = items('ids').map((s) => {
      const n = parseInteger(s);
      if (n === undefined || n <= 0) throw bad(action, 'ids must be user ids');
      return n;
    });
    if (userIds.length === 0) throw bad(action, 'ids must list at least one user');
    return { access, userIds: [...new Set(userIds)], groups: [] };
  }
  if (access === 'open_for_groups') {
    const groups = items('groups').map((g) => g.slice(0, 255));
    if (groups.length === 0) throw bad(action, 'groups must list at least one group');
    return { access, userIds: [], groups: [...new Set(groups)] };
  }
  return level(access);
}

/** The permissions a request sets over `base` (the defaults for a new record). */
export function parsePermissions(raw: unknown, base: RecordPermissions = DEFAULT_PERMISSIONS): RecordPermissions {
  if (raw === undefined || raw === null || raw === '') return base;
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new ApiError('invalidField', 'is invalid', 'permissions');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApiError('invalidField', 'is invalid', 'permissions');
  const input = value as Record<string, unknown>;
  const out = { ...base };
  for (const action of ACTIONS) if (input[action] !== undefined) out[action] = parseOne(action, input[action]);
  return out;
}

export function permissionsView(p: RecordPermissions): Record<RecordAction, Record<string, unknown>> {
  const one = (x: Permission) => {
    if (x.access === 'open_for_users_ids') return { access: x.access, ids: x.userIds.map(String) };
    if (x.access === 'open_for_groups') return { access: x.access, groups: x.groups };
    return { access: x.access };
  };
  return { read: one(p.read), update: one(p.update), delete: one(p.delete) };
}

/** The same rule the store applies in SQL (custom-objects-sql.ts permissionClause). */
export function allowed(viewer: Viewer, record: CustomRecord, action: RecordAction): boolean {
  if (viewer.unrestricted) return true;
  const p = record.permissions[action];
  if (p.access === 'open') return true;
  if (viewer.userId === null) return false;
  if (record.userId === viewer.userId) return true;
  if (p.access === 'open_for_users_ids') return p.userIds.includes(viewer.userId);
  if (p.access === 'open_for_groups') return p.groups.some((g) => viewer.groups.includes(g));
  return false;
}
