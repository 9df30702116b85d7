// Turns the driver-neutral list filters of ChatStore into SQLite WHERE fragments.
import type { Filter, FilterOp, FilterValue } from '../types.js';

export interface Fragment {
  sql: string;
  params: unknown[];
}

/**
 * How a filter field is stored:
 * - scalar: a plain column or expression;
 * - time: an integer column of milliseconds, compared at whole seconds;
 * - text: a JSON value compared as text unless the filter value is a number;
 * - array: a JSON array column of scalars (occupants_ids);
 * - objectArray: a JSON array of objects, filtered on one key of any element (attachments.type).
 */
export type Column =
  | { kind: 'scalar'; sql: string }
  | { kind: 'time'; sql: string }
  | { kind: 'text'; sql: string }
  | { kind: 'array'; sql: string }
  | { kind: 'objectArray'; sql: string; key: string };

const bind = (v: FilterValue): unknown => {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
};

const list = (value: FilterValue | FilterValue[]): FilterValue[] => (Array.isArray(value) ? value : [value]);
const single = (value: FilterValue | FilterValue[]): FilterValue => (Array.isArray(value) ? (value[0] ?? null) : value);
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

const COMPARISONS: Partial<Record<FilterOp, string>> = { lt: '<', lte: '<=', gt: '>', gte: '>=' };

/** A condition on one value expression. */
function scalarCondition(expr: string, op: FilterOp, value: FilterValue | FilterValue[], asValue = bind): Fragment {
  const comparison = COMPARISONS[op];
  if (comparison) {
    const v = single(value);
    return v === null ? { sql: '0', params: [] } : { sql: `${expr} ${comparison} ?`, params: [asValue(v)] };
  }
  switch (op) {
    case 'eq': {
      const v = single(value);
      return v === null ? { sql: `${expr} IS NULL`, params: [] } : { sql: `${expr} = ?`, params: [asValue(v)] };
    }
    case 'ne': {
      const v = single(value);
      return v === null ? { sql: `${expr} IS NOT NULL`, params: [] } : { sql: `(${expr} IS NULL OR ${expr} <> ?)`, params: [asValue(v)] };
    }
    case 'in': {
      const vs = list(value);
      return vs.length === 0 ? { sql: '0', params: [] } : { sql: `${expr} IN (${placeholders(vs.length)})`, params: vs.map(asValue) };
    }
    case 'nin': {
      const vs = list(value);
      return vs.length === 0 ? { sql: '1', params: [] } : { sql: `(${expr} IS NULL OR ${expr} NOT IN (${placeholders(vs.length)}))`, params: vs.map(asValue) };
    }
    case 'all': {
      // A single value equals "all" of the given values only if they are all that value.
      const vs = list(value);
      if (vs.length === 0) return { sql: '1', params: [] };
      return { sql: vs.map(() => `${expr} = ?`).join(' AND '), params: vs.map(asValue) };
    }
    case 'ctn': {
      const v = single(value);
      return v === null ? { sql: '0', params: [] } : { sql: `${expr} LIKE ? ESCAPE '\\'`, params: [`%${escapeLike(String(v))}%`] };
    }
    default:
      throw new Error(`unknown filter operator ${String(op)}`);
  }
}

/** A condition on the elements of a JSON array; `element` is the SQL of one element's value. */
function arrayCondition(source: string, element: string, op: FilterOp, value: FilterValue | FilterValue[], asValue = bind): Fragment {
  if (op === 'ne' || op === 'nin') {
    const inner = scalarCondition(element, op === 'ne' ? 'eq' : 'in', value, asValue);
    return { sql: `NOT EXISTS (SELECT 1 FROM json_each(${source}) AS e WHERE ${inner.sql})`, params: inner.params };
  }
  if (op === 'all') {
    const vs = [...new Set(list(value).map(asValue))];
    if (vs.length === 0) return { sql: '1', params: [] };
    return {
      sql: `(SELECT count(DISTINCT ${element}) FROM json_each(${source}) AS e WHERE ${element} IN (${placeholders(vs.length)})) = ${vs.length}`,
      params: vs,
    };
  }
  const inner = scalarCondition(element, op, value, asValue);
  return { sql: `EXISTS (SELECT 1 FROM json_each(${source}) AS e WHERE ${inner.sql})`, params: inner.params };
}

const asText = (v: FilterValue): unknown => (v instanceof Date ? v.getTime() : typeof v === 'boolean' ? (v ? 'true' : 'false') : v === null ? null : String(v));
const asSeconds = (v: FilterValue): unknown => (v instanceof Date ? Math.floor(v.getTime() / 1000) : bind(v));

export function filterSql(column: Column, filter: Filter<string>): Fragment {
  const { op, value } = filter;
  switch (column.kind) {
    case 'scalar':
      return scalarCondition(column.sql, op, value);
    case 'time':
      return scalarCondition(`(${column.sql} / 1000)`, op, value, asSeconds);
    case 'text': {
      const numeric = list(value).every((v) => typeof v === 'number');
      return numeric && op !== 'ctn'
        ? scalarCondition(column.sql, op, value)
        : scalarCondition(`CAST(${column.sql} AS TEXT)`, op, value, asText);
    }
    case 'array':
      return arrayCondition(column.sql, 'e.value', op, value);
    case 'objectArray':
      return arrayCondition(column.sql, `CAST(json_extract(e.value, '$.${column.key}') AS TEXT)`, op, value, asText);
  }
}

/** ANDs every filter, using `columnOf` to find the column (null = not filterable, skipped). */
export function whereSql<F extends string>(filters: Filter<F>[], columnOf: (field: F) => Column | null): Fragment {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const f of filters) {
    const column = columnOf(f.field);
    if (!column) continue;
    const fragment = filterSql(column, f);
    parts.push(fragment.sql);
    params.push(...fragment.params);
  }
  return { sql: parts.length ? parts.map((p) => `(${p})`).join(' AND ') : '1', params };
}
