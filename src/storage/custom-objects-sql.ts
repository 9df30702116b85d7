// Turns a RecordQuery into SQL for either driver. The rules (what each operator means on scalars and
// arrays, the permission levels, the default order) are written once here; a dialect says how each
// driver reads a JSON field, walks a JSON array and numbers its parameters. Table alias: `r`.
import type { ClassField, Condition, FieldValue, GroupQuery, Permission, RecordAction, RecordQuery, RecordSort, Viewer } from './custom-objects-types.js';

export interface SqlDialect {
  /** Records a parameter and returns its placeholder. */
  param(value: unknown): string;
  /** The typed scalar value of a (non-array) class field, NULL when absent. */
  field(field: ClassField): string;
  /** A FROM item over the elements of an array field, and the typed element expression. */
  elements(field: ClassField): { from: string; value: string };
  /** When the driver has a faster way to say "the array field contains every one of these". */
  containsAll?(field: ClassField, values: FieldValue[]): string;
  /** The access level stored for an action. */
  access(action: RecordAction): string;
  /** FROM item and element expression of the user ids / groups stored for an action. */
  permissionList(action: RecordAction, list: 'ids' | 'groups'): { from: string; value: string };
  /** A value as the driver binds it (SQLite has no booleans). */
  bind(value: FieldValue): unknown;
  /** The longitude and latitude (degrees) of a Location field. */
  location(field: ClassField): { lon: string; lat: string };
  /** When the driver has a faster way to say "the scalar field equals this value". */
  equals?(field: ClassField, value: FieldValue): string;
  /** The two-argument smallest-of function: min (SQLite) or least (PostgreSQL). */
  least: string;
}

const COMPARISONS = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;
const SYSTEM_COLUMNS = { _id: 'r.id', _parent_id: 'r.parent_id', user_id: 'r.user_id', created_at: '(r.created_at / 1000)', updated_at: '(r.updated_at / 1000)' } as const;
const EARTH_RADIUS_M = 6_371_000;

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The scalar a condition compares (a system column or a non-array field). */
function scalarExpr(d: SqlDialect, on: Condition['on']): string {
  return 'system' in on ? SYSTEM_COLUMNS[on.system] : d.field(on.field);
}

/** A condition on a single value expression. */
function scalarCondition(d: SqlDialect, expr: string, c: Condition): string {
  const values = c.values ?? [c.value];
  switch (c.op) {
    case 'eq':
      if (c.value === null) return `${expr} IS NULL`;
      if (d.equals && 'field' in c.on) return d.equals(c.on.field, c.value);
      return `${expr} = ${d.param(d.bind(c.value))}`;
    case 'ne':
      return c.value === null ? `${expr} IS NOT NULL` : `(${expr} IS NULL OR ${expr} <> ${d.param(d.bind(c.value))})`;
    case 'lt': case 'lte': case 'gt': case 'gte':
      return `${expr} ${COMPARISONS[c.op]} ${d.param(d.bind(c.value))}`;
    case 'in': case 'all':
      return values.length === 0 ? '1=0' : `${expr} IN (${values.map((v) => d.param(d.bind(v))).join(', ')})`;
    case 'nin':
      return values.length === 0 ? '1=1' : `(${expr} IS NULL OR ${expr} NOT IN (${values.map((v) => d.param(d.bind(v))).join(', ')}))`;
    case 'ctn':
      return `lower(${expr}) LIKE ${d.param(`%${escapeLike(String(c.value).toLowerCase())}%`)} ESCAPE '\\'`;
  }
}

/** A condition on an array field: membership tests over its elements. */
function arrayCondition(d: SqlDialect, field: ClassField, c: Condition): string {
  const values = c.values ?? [c.value];
  const some = (test: (value: string) => string) => {
    const { from, value } = d.elements(field);
    return `EXISTS (SELECT 1 FROM ${from} WHERE ${test(value)})`;
  };
  switch (c.op) {
    case 'eq':
      if (c.value === null) return `${d.field({ ...field, isArray: false })} IS NULL`;
      return d.containsAll ? d.containsAll(field, [c.value]) : some((v) => `${v} = ${d.param(d.bind(c.value))}`);
    case 'all':
      if (values.length === 0) return '1=1';
      return d.containsAll ? d.containsAll(field, values) : values.map((x) => some((v) => `${v} = ${d.param(d.bind(x))}`)).join(' AND ');
    case 'in':
      return values.length === 0 ? '1=0' : some((v) => `${v} IN (${values.map((x) => d.param(d.bind(x))).join(', ')})`);
    case 'ne':
    case 'nin':
      return values.length === 0 ? '1=1' : `NOT ${some((v) => `${v} IN (${values.map((x) => d.param(d.bind(x))).join(', ')})`)}`;
    case 'lt': case 'lte': case 'gt': case 'gte':
      return some((v) => `${v} ${COMPARISONS[c.op as keyof typeof COMPARISONS]} ${d.param(d.bind(c.value))}`);
    case 'ctn':
      return some((v) => `lower(${v}) LIKE ${d.param(`%${escapeLike(String(c.value).toLowerCase())}%`)} ESCAPE '\\'`);
  }
}

function condition(d: SqlDialect, c: Condition): string {
  if ('field' in c.on && c.on.field.isArray) return arrayCondition(d, c.on.field, c);
  return scalarCondition(d, scalarExpr(d, c.on), c);
}

/** Who may do `action` to a record: its creator, and the levels of QuickBlox's per-record permissions. */
export function permissionClause(d: SqlDialect, viewer: Viewer, action: RecordAction): string {
  if (viewer.unrestricted) return '1=1';
  const access = d.access(action);
  const open = `${access} = 'open'`;
  if (viewer.userId === null) return open;
  const ids = d.permissionList(action, 'ids');
  // The creator keeps every right to their record whatever level it is opened to.
  const parts = [
    `r.user_id = ${d.param(viewer.userId)}`,
    open,
    `(${access} = 'open_for_users_ids' AND EXISTS (SELECT 1 FROM ${ids.from} WHERE ${ids.value} = ${d.param(viewer.userId)}))`,
  ];
  if (viewer.groups.length > 0) {
    const groups = d.permissionList(action, 'groups');
    parts.push(`(${access} = 'open_for_groups' AND EXISTS (SELECT 1 FROM ${groups.from} WHERE ${groups.value} IN (${viewer.groups.map((g) => d.param(g)).join(', ')})))`);
  }
  return `(${parts.join(' OR ')})`;
}

/** Great-circle distance in metres between a Location field and a point (haversine). */
function distance(d: SqlDialect, field: ClassField, lon: number, lat: number): string {
  const at = d.location(field);
  // Placeholders are recorded as they are written: one template, evaluated left to right.
  const dLat = () => `radians(${at.lat} - ${d.param(lat)})`;
  const dLon = () => `radians(${at.lon} - ${d.param(lon)})`;
  return `(${2 * EARTH_RADIUS_M} * asin(sqrt(${d.least}(1.0, sin(${dLat()} / 2) * sin(${dLat()} / 2) + cos(radians(${at.lat})) * cos(radians(${d.param(lat)})) * sin(${dLon()} / 2) * sin(${dLon()} / 2)))))`;
}

/** WHERE (without the keyword) for the query's class, permissions and conditions. */
export function whereClause(d: SqlDialect, q: Omit<RecordQuery, 'sort' | 'limit' | 'skip'>): string {
  const parts = [`r.app_id = ${d.param(q.appId)}`, `r.class_name = ${d.param(q.className)}`, permissionClause(d, q.viewer, q.action)];
  for (const c of q.conditions) parts.push(condition(d, c));
  if (q.anyOf.length > 0) parts.push(`(${q.anyOf.map((c) => condition(d, c)).join(' OR ')})`);
  if (q.near) parts.push(`${d.location(q.near.field).lon} IS NOT NULL`, `${distance(d, q.near.field, q.near.lon, q.near.lat)} <= ${d.param(q.near.radiusM)}`);
  return parts.join(' AND ');
}

function orderBy(d: SqlDialect, q: RecordQuery): string {
  const sort: RecordSort | undefined = q.sort;
  if (!sort && q.near) return `${distance(d, q.near.field, q.near.lon, q.near.lat)} ASC, r.id ASC`;
  if (!sort) return 'r.id ASC';
  const dir = sort.direction === 'desc' ? 'DESC' : 'ASC';
  if ('system' in sort.on && sort.on.system === '_id') return `r.id ${dir}`;
  const expr = scalarExpr(d, sort.on);
  // Records without the field come last either way, as they would with QuickBlox's MongoDB for desc.
  return `(${expr} IS NULL) ASC, ${expr} ${dir}, r.id ${dir}`;
}

/** The statement text of a record query; `columns` are the driver's record columns. */
export function selectRecords(d: SqlDialect, q: RecordQuery, table: string, columns: string): string {
  const where = whereClause(d, q);
  const order = orderBy(d, q);
  return `SELECT ${columns} FROM ${table} r WHERE ${where} ORDER BY ${order} LIMIT ${d.param(q.limit)} OFFSET ${d.param(q.skip)}`;
}

export function countRecords(d: SqlDialect, q: Omit<RecordQuery, 'sort' | 'limit' | 'skip'>, table: string): string {
  return `SELECT count(*) AS n FROM ${table} r WHERE ${whereClause(d, q)}`;
}

/** Groups as rows of (key, n, <field>_<fn>…); the aggregate column names are returned with it. */
export function groupRecords(d: SqlDialect, q: GroupQuery, table: string): { sql: string; aggregates: { column: string; name: string }[] } {
  const key = d.field({ ...q.groupBy, isArray: false });
  const where = whereClause(d, q);
  const aggregates = q.calc.map((c, i) => ({ column: `a${i}`, name: `${c.field.name}.${c.fn}`, expr: `${c.fn}(${d.field({ ...c.field, isArray: false })})` }));
  const select = [`${key} AS k`, 'count(*) AS n', ...aggregates.map((a) => `${a.expr} AS ${a.column}`)].join(', ');
  const sql = `SELECT ${select} FROM ${table} r WHERE ${where} GROUP BY ${key} ORDER BY (${key} IS NULL) ASC, ${key} ASC LIMIT ${d.param(q.limit)} OFFSET ${d.param(q.skip)}`;
  return { sql, aggregates: aggregates.map(({ column, name }) => ({ column, name })) };
}

/** Stored permissions as the JSON both drivers keep: `{read:{access, ids, groups}, …}`. */
export function permissionsJson(p: Record<RecordAction, Permission>): string {
  const one = (x: Permission) => ({ access: x.access, ids: x.userIds, groups: x.groups });
  return JSON.stringify({ read: one(p.read), update: one(p.update), delete: one(p.delete) });
}

export function permissionsFromJson(value: unknown): Record<RecordAction, Permission> {
  const parsed = (typeof value === 'string' ? JSON.parse(value) : value) as Record<RecordAction, { access: Permission['access']; ids: number[]; groups: string[] }>;
  const one = (x: { access: Permission['access']; ids: number[]; groups: string[] }): Permission => ({ access: x.access, userIds: x.ids.map(Number), groups: x.groups });
  return { read: one(parsed.read), update: one(parsed.update), delete: one(parsed.delete) };
}
