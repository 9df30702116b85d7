// QuickBlox's request-parameter conventions, applied to the loose records the `qs` library makes of
// query strings, form bodies and JSON bodies (strings, arrays, nested objects; numbers and booleans
// from JSON). Nothing here knows which endpoint it serves.
import type { Filter, FilterOp, FilterValue, Sort } from '../storage/types.js';
import { ApiError } from './errors.js';
import { normalizeObjectId } from './objectid.js';

export type Params = Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object whose keys are all array indexes, as qs makes of `a[0]=x&a[1]=y` past its array limit. */
export function isIndexKeyed(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => /^\d+$/.test(k));
}

/** Values of an index-keyed object in index order. */
export function indexedValues(value: Record<string, unknown>): unknown[] {
  return Object.keys(value).sort((a, b) => Number(a) - Number(b)).map((k) => value[k]);
}

/**
 * The items of a list parameter, as strings. Accepts a JSON array, a JSON-array string, a comma
 * string with optional spaces ("1, 2"), repeated or bracketed keys (arrays, possibly of comma
 * strings, as the JS SDK sends `key[]=1,2`), and index-keyed objects. Undefined when absent.
 */
export function parseList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.flatMap((v) => parseList(v) ?? []);
  if (isIndexKeyed(value)) return parseList(indexedValues(value));
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (Array.isArray(parsed)) return parseList(parsed);
      } catch {
        // not JSON: read it as a comma list below
      }
    }
    return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  return [];
}

/** An integer given as a number or a decimal string; undefined otherwise. */
export function parseInteger(value: unknown): number | undefined {
  const n = parseNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** Longest text read as a number: more is never a meaningful id, count or timestamp. */
export const MAX_NUMBER_TEXT = 64;

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/** `[+-]digits[.digits][e[+-]digits]` (either side of the point may be empty, not both), in one pass. */
function isDecimalText(text: string): boolean {
  let i = 0;
  const end = text.length;
  if (text[i] === '+' || text[i] === '-') i++;
  let digits = 0;
  while (i < end && isDigit(text.charCodeAt(i))) i++, digits++;
  if (text[i] === '.') {
    i++;
    while (i < end && isDigit(text.charCodeAt(i))) i++, digits++;
  }
  if (digits === 0) return false;
  if (text[i] === 'e' || text[i] === 'E') {
    i++;
    if (text[i] === '+' || text[i] === '-') i++;
    let exponent = 0;
    while (i < end && isDigit(text.charCodeAt(i))) i++, exponent++;
    if (exponent === 0) return false;
  }
  return i === end;
}

/** A finite number given as a number or a numeric string (fractions allowed); undefined otherwise. */
export function parseNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.length > MAX_NUMBER_TEXT) return undefined;
  const text = value.trim();
  if (!isDecimalText(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** 1/0, "1"/"0", true/false, "true"/"false"; undefined for anything else. */
export function parseBoolean(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === '1' || value === 'true') return true;
  if (value === false || value === 0 || value === '0' || value === 'false') return false;
  return undefined;
}

const badFormat = (name: string) => new ApiError('badRequest', `Incorrect format for parameter "${name}".`);

/** A list of user ids; throws 400 `Incorrect format for parameter "<name>".` for anything but positive integers. */
export function parseUserIds(value: unknown, name: string): number[] | undefined {
  const items = parseList(value);
  if (items === undefined) return undefined;
  if (!Array.isArray(value) && !isIndexKeyed(value) && typeof value !== 'string' && typeof value !== 'number') throw badFormat(name);
  return [...new Set(items.map((item) => {
    const id = parseInteger(item);
    if (id === undefined || id <= 0) throw badFormat(name);
    return id;
  }))];
}

/** A JSON object given as an object or a JSON string; null for null or ""; throws 422 otherwise. */
export function parseObject(value: unknown, name: string): Record<string, unknown> | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  if (isRecord(value)) return value;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isRecord(parsed)) return parsed;
    } catch {
      // fall through to the error
    }
  }
  throw new ApiError('invalidField', 'is invalid', name);
}

export interface Paging {
  limit: number;
  skip: number;
}

/** `limit` (default `defaultLimit`, at most `maxLimit`) and `skip` (default 0). */
export function parsePaging(params: Params, defaultLimit: number, maxLimit: number): Paging {
  const limit = parseInteger(params.limit);
  const skip = parseInteger(params.skip);
  return {
    limit: limit === undefined || limit < 1 ? defaultLimit : Math.min(limit, maxLimit),
    skip: skip === undefined || skip < 0 ? 0 : skip,
  };
}

/** `sort_desc=<field>` or `sort_asc=<field>` for one of `fields`; undefined when neither names one. */
export function parseSort<F extends string>(params: Params, fields: readonly F[]): Sort<F> | undefined {
  for (const [key, direction] of [['sort_desc', 'desc'], ['sort_asc', 'asc']] as const) {
    const field = params[key];
    if (typeof field === 'string' && (fields as readonly string[]).includes(field.trim())) return { field: field.trim() as F, direction };
  }
  return undefined;
}

/** How a filter field's values are read. */
export type FilterKind = 'objectId' | 'integer' | 'number' | 'string' | 'time' | 'custom';

const OPERATORS: Record<string, FilterOp> = {
  lt: 'lt', lte: 'lte', gt: 'gt', gte: 'gte', ne: 'ne', in: 'in', nin: 'nin', all: 'all', ctn: 'ctn', or: 'in',
};
const LIST_OPERATORS = new Set<FilterOp>(['in', 'nin', 'all']);

function filterValue(kind: FilterKind, raw: unknown, op: FilterOp, name: string): FilterValue {
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (kind) {
    case 'objectId':
      return normalizeObjectId(text) ?? String(text);
    case 'string':
      return String(text);
    case 'integer': {
      const n = parseInteger(text);
      if (n === undefined) throw badFormat(name);
      return n;
    }
    case 'number': {
      const n = parseNumber(text);
      if (n === undefined) throw badFormat(name);
      return n;
    }
    case 'time': {
      // Unix seconds (fractions allowed), as QuickBlox's examples give them; ISO dates also accepted.
      const seconds = parseNumber(text);
      const ms = seconds !== undefined ? seconds * 1000 : typeof text === 'string' ? Date.parse(text) : NaN;
      if (!Number.isFinite(ms)) throw badFormat(name);
      return new Date(ms);
    }
    case 'custom': {
      // Custom data arrives as text; order comparisons of numbers compare numerically.
      const n = parseNumber(text);
      return n !== undefined && ['lt', 'lte', 'gt', 'gte'].includes(op) ? n : String(text);
    }
  }
}

/** Most values one list filter (in, nin, all) may carry; each becomes a bound SQL parameter. */
export const MAX_FILTER_VALUES = 1000;

function boundedList(items: string[], field: string): string[] {
  if (items.length > MAX_FILTER_VALUES) throw new ApiError('invalidField', `has too many values (maximum is ${MAX_FILTER_VALUES})`, field);
  return items;
}

function filtersOf<F extends string>(field: F, kind: FilterKind, raw: unknown): Filter<F>[] {
  if (raw === undefined) return [];
  const conditions: [FilterOp, unknown][] = isRecord(raw) && !isIndexKeyed(raw)
    ? Object.entries(raw).flatMap(([op, v]): [FilterOp, unknown][] => (OPERATORS[op] ? [[OPERATORS[op], v]] : []))
    : Array.isArray(raw) || isIndexKeyed(raw) ? [['in', raw]] : [['eq', raw]];
  return conditions.map(([op, v]) => ({
    field,
    op,
    value: LIST_OPERATORS.has(op)
      ? boundedList(parseList(v) ?? [], field).map((item) => filterValue(kind, item, op, field))
      : filterValue(kind, Array.isArray(v) ? v[0] : v, op, field),
  }));
}

/**
 * The `field=value` and `field[op]=value` filters of `params` for the fields of `spec`. A dotted
 * field (attachments.type) is found under its dotted key or nested (`attachments[type]`). Unknown
 * operators are ignored; a value that does not fit its field is a 400.
 */
export function parseFilters<F extends string>(params: Params, spec: Readonly<Record<F, FilterKind>>): Filter<F>[] {
  const filters: Filter<F>[] = [];
  for (const field of Object.keys(spec) as F[]) {
    let raw = params[field];
    if (raw === undefined && field.includes('.')) {
      const [outer, inner] = field.split('.', 2);
      const nested = params[outer];
      raw = isRecord(nested) ? nested[inner] : undefined;
    }
    filters.push(...filtersOf(field, spec[field], raw));
  }
  return filters;
}

/** `data[key]=value` and `data[key][op]=value` filters on custom data, as fields `data.<key>`. */
export function parseDataFilters(params: Params): Filter<`data.${string}`>[] {
  if (!isRecord(params.data)) return [];
  return Object.entries(params.data).flatMap(([key, raw]) => filtersOf(`data.${key}` as const, 'custom', raw));
}
