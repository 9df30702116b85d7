// The filter language of GET /data/<Class>.json (and of by_criteria updates and deletes) turned into
// a store query: `f=v`, `f[op]=v` with lt lte gt gte ne in nin all ctn or near, on class fields and
// on _id, _parent_id, user_id, created_at, updated_at; sort_asc/sort_desc; limit/skip. Every list
// is bounded (values per operator, conditions per query) before anything reaches the store.
import { ApiError } from '../chat/errors.js';
import { parseList, parseNumber, parseInteger, type Params } from '../chat/params.js';
import { normalizeObjectId } from '../chat/objectid.js';
import type {
  Aggregate, ClassField, Condition, ConditionOp, CustomClass, FieldValue, NearCondition, QueryField, RecordSort, SystemField,
} from '../storage/custom-objects-types.js';
import { castScalar } from './fields.js';

export const PAGE = 100;
export const PAGE_MAX = 1000;
export const MAX_VALUES = 100;
export const MAX_CONDITIONS = 50;

const OPS: Record<string, ConditionOp | 'or' | 'near'> = {
  lt: 'lt', lte: 'lte', gt: 'gt', gte: 'gte', ne: 'ne', in: 'in', nin: 'nin', all: 'all', ctn: 'ctn', or: 'or', near: 'near',
};
const LIST_OPS = new Set<string>(['in', 'nin', 'all', 'or']);
const SYSTEM: readonly SystemField[] = ['_id', '_parent_id', 'user_id', 'created_at', 'updated_at'];

export interface ParsedFilters {
  conditions: Condition[];
  anyOf: Condition[];
  near?: NearCondition;
}

const badParam = (name: string) => new ApiError('badRequest', `Incorrect format for parameter "${name}".`);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fieldOf(cls: CustomClass, name: string): QueryField | null {
  if ((SYSTEM as readonly string[]).includes(name)) return { system: name as SystemField };
  const field = cls.fields.find((f) => f.name === name);
  return field ? { field } : null;
}

/** One filter value in the stored form of the field it is compared with. */
function castFilterValue(on: QueryField, raw: unknown, name: string): FieldValue {
  const text = typeof raw === 'string' ? raw.trim() : raw;
  if (text === 'null') return null;
  if ('system' in on) {
    if (on.system === '_id' || on.system === '_parent_id') {
      const id = normalizeObjectId(text);
      if (!id) throw badParam(name);
      return id;
    }
    if (on.system === 'user_id') {
      const n = parseInteger(text);
      if (n === undefined) throw badParam(name);
      return n;
    }
    const seconds = parseNumber(text);
    if (seconds === undefined) throw badParam(name);
    return Math.floor(seconds);
  }
  if (on.field.type === 'File' || on.field.type === 'Location') throw badParam(name);
  try {
    return castScalar(on.field.type, text, name);
  } catch {
    throw badParam(name);
  }
}

function parseNear(field: ClassField, raw: unknown, name: string): NearCondition {
  if (field.type !== 'Location' || typeof raw !== 'string') throw badParam(`${name}[near]`);
  const [point, radius] = raw.split(';');
  const [lon, lat] = point.split(',').map((s) => parseNumber(s.trim()));
  const radiusM = radius === undefined ? 40_075_000 : parseNumber(radius.trim());
  if (lon === undefined || lat === undefined || radiusM === undefined || Math.abs(lon) > 180 || Math.abs(lat) > 90 || radiusM < 0) {
    throw badParam(`${name}[near]`);
  }
  return { field, lon, lat, radiusM };
}

/** Filters of `params` on the class; keys that are neither fields nor system columns are ignored. */
export function parseFilters(cls: CustomClass, params: Params): ParsedFilters {
  const out: ParsedFilters = { conditions: [], anyOf: [] };
  const add = (list: Condition[], c: Condition) => {
    if (out.conditions.length + out.anyOf.length >= MAX_CONDITIONS) throw new ApiError('badRequest', `A query takes at most ${MAX_CONDITIONS} conditions.`);
    list.push(c);
  };
  const values = (raw: unknown, name: string): unknown[] => {
    const items = parseList(raw) ?? [];
    if (items.length > MAX_VALUES) throw new ApiError('badRequest', `Parameter "${name}" takes at most ${MAX_VALUES} values.`);
    return items;
  };
  for (const [name, raw] of Object.entries(params)) {
    const on = fieldOf(cls, name);
    if (!on) continue;
    const entries: [string, unknown][] = isRecord(raw) ? Object.entries(raw) : [['eq', Array.isArray(raw) ? raw[0] : raw]];
    for (const [opName, value] of entries) {
      const op = opName === 'eq' ? 'eq' : OPS[opName];
      if (!op) throw badParam(`${name}[${opName}]`);
      if (op === 'near') {
        if (!('field' in on) || out.near) throw badParam(`${name}[near]`);
        out.near = parseNear(on.field, value, name);
        continue;
      }
      if (op === 'ctn' && !('field' in on && on.field.type === 'String')) throw badParam(`${name}[ctn]`);
      if (LIST_OPS.has(op)) {
        const cast = values(value, `${name}[${opName}]`).map((v) => castFilterValue(on, v, `${name}[${opName}]`));
        if (op === 'or') add(out.anyOf, { on, op: 'in', value: null, values: cast });
        else add(out.conditions, { on, op: op as ConditionOp, value: null, values: cast });
        continue;
      }
      if (typeof value === 'object' && value !== null) throw badParam(`${name}[${opName}]`);
      add(out.conditions, { on, op: op as ConditionOp, value: castFilterValue(on, value, name) });
    }
  }
  return out;
}

export function parseSort(cls: CustomClass, params: Params): RecordSort | undefined {
  for (const [key, direction] of [['sort_desc', 'desc'], ['sort_asc', 'asc']] as const) {
    const name = params[key];
    if (name === undefined) continue;
    const on = typeof name === 'string' ? fieldOf(cls, name.trim()) : null;
    if (!on || ('field' in on && (on.field.isArray || on.field.type === 'Location' || on.field.type === 'File'))) throw badParam(key);
    return { on, direction };
  }
  return undefined;
}

/** `limit` (default 100, at most 1000; QuickBlox's `-1` = the last record) and `skip`. */
export function parsePaging(params: Params): { limit: number; skip: number; last: boolean } {
  const limit = params.limit === undefined || params.limit === '' ? PAGE : parseInteger(typeof params.limit === 'string' ? params.limit.trim() : params.limit);
  const skip = params.skip === undefined || params.skip === '' ? 0 : parseInteger(typeof params.skip === 'string' ? params.skip.trim() : params.skip);
  if (limit === undefined || limit < -1 || limit === 0) throw badParam('limit');
  if (skip === undefined || skip < 0) throw badParam('skip');
  if (limit === -1) return { limit: 1, skip: 0, last: true };
  return { limit: Math.min(limit, PAGE_MAX), skip, last: false };
}

/** `output[include]=a,b` / `output[exclude]=…`: which fields the answer shows. */
export function parseOutput(cls: CustomClass, params: Params): { include?: Set<string>; exclude?: Set<string> } {
  const output = params.output;
  if (output === undefined) return {};
  if (!isRecord(output)) throw badParam('output');
  const names = (raw: unknown, key: string) => {
    const list = parseList(raw) ?? [];
    if (list.length > cls.fields.length + SYSTEM.length) throw badParam(`output[${key}]`);
    return new Set(list);
  };
  return {
    ...(output.include !== undefined ? { include: names(output.include, 'include') } : {}),
    ...(output.exclude !== undefined ? { exclude: names(output.exclude, 'exclude') } : {}),
  };
}

const AGGREGATES: readonly Aggregate[] = ['count', 'sum', 'avg', 'min', 'max'];

/** `group_by=f` with optional `calc[g]=avg` (numeric fields; several functions as a comma list). */
export function parseGrouping(cls: CustomClass, params: Params): { groupBy: ClassField; calc: { field: ClassField; fn: Aggregate }[] } | null {
  const name = params.group_by;
  if (name === undefined) return null;
  const groupBy = typeof name === 'string' ? cls.fields.find((f) => f.name === name.trim()) : undefined;
  if (!groupBy || groupBy.isArray || groupBy.type === 'Location' || groupBy.type === 'File') throw badParam('group_by');
  const calc: { field: ClassField; fn: Aggregate }[] = [];
  if (params.calc !== undefined) {
    if (!isRecord(params.calc)) throw badParam('calc');
    for (const [fieldName, fns] of Object.entries(params.calc)) {
      const field = cls.fields.find((f) => f.name === fieldName);
      if (!field || field.isArray || (field.type !== 'Integer' && field.type !== 'Float')) throw badParam(`calc[${fieldName}]`);
      for (const fn of parseList(fns) ?? []) {
        if (!(AGGREGATES as readonly string[]).includes(fn)) throw badParam(`calc[${fieldName}]`);
        calc.push({ field, fn: fn as Aggregate });
      }
    }
    if (calc.length > MAX_CONDITIONS) throw badParam('calc');
  }
  return { groupBy, calc };
}
