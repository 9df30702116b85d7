// Turns the driver-neutral list filters of ChatStore into PostgreSQL WHERE fragments. Every value
// is a numbered parameter; only column expressions chosen by the caller are written into the SQL.
import type { Filter, FilterOp, FilterValue } from '../types.js';

/** Parameters of one statement, numbered in the order they are added. */
export class Params {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder, cast so that PostgreSQL need not guess its type. */
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

/**
 * How a filter field is stored:
 * - number: an integer column, compared numerically;
 * - text: a text column;
 * - time: a bigint column of milliseconds, compared at whole seconds;
 * - jsonField: one key of a json object (custom data), compared as a number when the filter values
 *   are numbers and the stored value is one, else as text;
 * - array: a bigint[] column (occupants_ids);
 * - objectArray: a json array of objects, filtered on one key of any element (attachments.type).
 */
export type Column =
  | { kind: 'number'; sql: string }
  | { kind: 'text'; sql: string }
  | { kind: 'time'; sql: string }
  | { kind: 'jsonField'; sql: string; key: string }
  | { kind: 'array'; sql: string }
  | { kind: 'objectArray'; sql: string; key: string };

type ToParam = (v: FilterValue, params: Params) => string;

const list = (value: FilterValue | FilterValue[]): FilterValue[] => (Array.isArray(value) ? value : [value]);
const single = (value: FilterValue | FilterValue[]): FilterValue => (Array.isArray(value) ? (value[0] ?? null) : value);
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A value as a number: dates as milliseconds, booleans as 1/0, numeric text as its number; anything else matches nothing. */
function toNumber(v: FilterValue): number | null {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null;
  return v;
}

const numberParam = (n: number | null, params: Params) => params.add(n, n !== null && Number.isSafeInteger(n) ? 'bigint' : 'numeric');
const asNumber: ToParam = (v, params) => numberParam(toNumber(v), params);
const asSeconds: ToParam = (v, params) => numberParam(v instanceof Date ? Math.floor(v.getTime() / 1000) : toNumber(v), params);
/** Text as a text column holds it: dates as milliseconds, booleans as 1/0 (as SQLite binds them). */
const asColumnText: ToParam = (v, params) =>
  params.add(v instanceof Date ? String(v.getTime()) : typeof v === 'boolean' ? (v ? '1' : '0') : v === null ? null : String(v), 'text');
/** Text as JSON holds it: booleans as true/false. */
const asJsonText: ToParam = (v, params) =>
  params.add(v instanceof Date ? String(v.getTime()) : v === null ? null : String(v), 'text');

const COMPARISONS: Partial<Record<FilterOp, string>> = { lt: '<', lte: '<=', gt: '>', gte: '>=' };

/** A condition on one value expression. */
function scalarCondition(expr: string, op: FilterOp, value: FilterValue | FilterValue[], toParam: ToParam, params: Params): string {
  const comparison = COMPARISONS[op];
  if (comparison) {
    const v = single(value);
    return v === null ? 'false' : `${expr} ${comparison} ${toParam(v, params)}`;
  }
  switch (op) {
    case 'eq': {
      const v = single(value);
      return v === null ? `${expr} IS NULL` : `${expr} = ${toParam(v, params)}`;
    }
    case 'ne': {
      const v = single(value);
      return v === null ? `${expr} IS NOT NULL` : `${expr} IS DISTINCT FROM ${toParam(v, params)}`;
    }
    case 'in': {
      const vs = list(value);
      return vs.length === 0 ? 'false' : `${expr} IN (${vs.map((v) => toParam(v, params)).join(', ')})`;
    }
    case 'nin': {
      const vs = list(value);
      return vs.length === 0 ? 'true' : `(${expr} IS NULL OR ${expr} NOT IN (${vs.map((v) => toParam(v, params)).join(', ')}))`;
    }
    case 'all': {
      // A single value equals "all" of the given values only if they are all that value.
      const vs = list(value);
      return vs.length === 0 ? 'true' : vs.map((v) => `${expr} = ${toParam(v, params)}`).join(' AND ');
    }
    case 'ctn': {
      const v = single(value);
      return v === null ? 'false' : `${expr}::text ILIKE ${params.add(`%${escapeLike(String(v))}%`, 'text')} ESCAPE '\\'`;
    }
    default:
      throw new Error(`unknown filter operator ${String(op)}`);
  }
}

/** A condition on the elements of a set; `from` lists them as rows of `e`, `element` is the SQL of one. */
function elementCondition(from: string, element: string, op: FilterOp, value: FilterValue | FilterValue[], toParam: ToParam, params: Params): string {
  if (op === 'ne' || op === 'nin') {
    const inner = scalarCondition(element, op === 'ne' ? 'eq' : 'in', value, toParam, params);
    return `NOT EXISTS (SELECT 1 FROM ${from} WHERE ${inner})`;
  }
  if (op === 'all') {
    const vs = [...new Set(list(value))];
    if (vs.length === 0) return 'true';
    return `(SELECT count(DISTINCT ${element}) FROM ${from} WHERE ${element} IN (${vs.map((v) => toParam(v, params)).join(', ')})) = ${vs.length}`;
  }
  return `EXISTS (SELECT 1 FROM ${from} WHERE ${scalarCondition(element, op, value, toParam, params)})`;
}

export function filterSql(column: Column, filter: Filter<string>, params: Params): string {
  const { op, value } = filter;
  switch (column.kind) {
    case 'number':
      return scalarCondition(column.sql, op, value, asNumber, params);
    case 'text':
      return scalarCondition(column.sql, op, value, asColumnText, params);
    case 'time':
      return scalarCondition(`(${column.sql} / 1000)`, op, value, asSeconds, params);
    case 'jsonField': {
      const key = params.add(column.key, 'text');
      const numeric = list(value).every((v) => typeof v === 'number') && op !== 'ctn';
      return numeric
        ? scalarCondition(`(CASE WHEN json_typeof(${column.sql} -> ${key}) = 'number' THEN (${column.sql} ->> ${key})::numeric END)`,
          op, value, asNumber, params)
        : scalarCondition(`(${column.sql} ->> ${key})`, op, value, asJsonText, params);
    }
    case 'array':
      return elementCondition(`unnest(${column.sql}) AS e(value)`, 'e.value', op, value, asNumber, params);
    case 'objectArray': {
      const key = params.add(column.key, 'text');
      return elementCondition(`json_array_elements(${column.sql}) AS e(value)`, `(e.value ->> ${key})`, op, value, asJsonText, params);
    }
  }
}

/** ANDs every filter, using `columnOf` to find the column (null = not filterable, skipped). */
export function whereSql<F extends string>(filters: Filter<F>[], columnOf: (field: F) => Column | null, params: Params): string {
  const parts: string[] = [];
  for (const f of filters) {
    const column = columnOf(f.field);
    if (column) parts.push(`(${filterSql(column, f, params)})`);
  }
  return parts.length ? parts.join(' AND ') : 'true';
}
