import type pg from 'pg';
import { countRecords, groupRecords, permissionsFromJson, permissionsJson, selectRecords, type SqlDialect } from '../custom-objects-sql.js';
import {
  DuplicateClassError, type ClassField, type CustomClass, type CustomObjectStore, type CustomRecord, type FieldValue, type GroupQuery,
  type GroupRow, type RecordAction, type RecordQuery,
} from '../custom-objects-types.js';
import { inTransaction, isUniqueViolation, placeholders } from './pool.js';

interface ClassRow {
  app_id: string;
  name: string;
  fields: ClassField[];
  created_at: string;
  updated_at: string;
}

interface RecordRow {
  id: string;
  app_id: string;
  class_name: string;
  parent_id: string | null;
  user_id: string;
  fields: Record<string, FieldValue>;
  permissions: unknown;
  created_at: string;
  updated_at: string;
}

const COLUMNS = 'r.id, r.app_id, r.class_name, r.parent_id, r.user_id, r.fields, r.permissions, r.created_at, r.updated_at';
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Field names are checked by the caller; this guards the literals written into SQL. */
const key = (name: string): string => {
  if (!FIELD_NAME.test(name)) throw new Error(`invalid field name ${JSON.stringify(name)}`);
  return `'${name}'`;
};

/** A JSON text (`->>` or `#>> '{}'`) read as the field's type. */
function typed(text: string, f: ClassField): string {
  switch (f.type) {
    case 'Integer': case 'Float': return `(${text})::float8`;
    case 'Boolean': return `(${text})::boolean`;
    default: return `(${text}) COLLATE "C"`;
  }
}

const toClass = (r: ClassRow): CustomClass => ({
  appId: Number(r.app_id), name: r.name, fields: r.fields, createdAt: new Date(Number(r.created_at)), updatedAt: new Date(Number(r.updated_at)),
});

const toRecord = (r: RecordRow): CustomRecord => ({
  id: r.id,
  appId: Number(r.app_id),
  className: r.class_name,
  parentId: r.parent_id,
  userId: Number(r.user_id),
  fields: r.fields,
  permissions: permissionsFromJson(r.permissions),
  createdAt: new Date(Number(r.created_at)),
  updatedAt: new Date(Number(r.updated_at)),
});

function dialect(params: unknown[]): SqlDialect {
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  return {
    param,
    field: (f) => typed(`r.fields->>${key(f.name)}`, f),
    elements: (f) => ({
      from: `jsonb_array_elements(CASE WHEN jsonb_typeof(r.fields->${key(f.name)}) = 'array' THEN r.fields->${key(f.name)} ELSE '[]'::jsonb END) AS e(v)`,
      value: typed(`e.v #>> '{}'`, f),
    }),
    containsAll: (f, values) => `r.fields @> ${param(JSON.stringify({ [f.name]: values }))}::jsonb`,
    equals: (f, value) => `r.fields @> ${param(JSON.stringify({ [f.name]: value }))}::jsonb`,
    access: (action: RecordAction) => `(r.permissions->'${action}'->>'access')`,
    permissionList: (action, list) => ({
      from: `jsonb_array_elements(r.permissions->'${action}'->'${list}') AS p(v)`,
      value: list === 'ids' ? `(p.v #>> '{}')::bigint` : `(p.v #>> '{}')`,
    }),
    bind: (value) => value,
    location: (f) => ({ lon: `(r.fields->${key(f.name)}->>0)::float8`, lat: `(r.fields->${key(f.name)}->>1)::float8` }),
    least: 'least',
  };
}

export class PostgresCustomObjectStore implements CustomObjectStore {
  constructor(private readonly pool: pg.Pool) {}

  async createClass(cls: CustomClass): Promise<CustomClass> {
    try {
      const { rows } = await this.pool.query<ClassRow>(
        'INSERT INTO custom_classes (app_id, name, fields, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING *',
        [cls.appId, cls.name, JSON.stringify(cls.fields), cls.createdAt.getTime(), cls.updatedAt.getTime()]);
      return toClass(rows[0]);
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateClassError(cls.name);
      throw err;
    }
  }

  async getClass(appId: number, name: string): Promise<CustomClass | null> {
    const { rows } = await this.pool.query<ClassRow>('SELECT * FROM custom_classes WHERE app_id = $1 AND name = $2', [appId, name]);
    return rows[0] ? toClass(rows[0]) : null;
  }

  async listClasses(appId: number): Promise<CustomClass[]> {
    const { rows } = await this.pool.query<ClassRow>('SELECT * FROM custom_classes WHERE app_id = $1 ORDER BY name', [appId]);
    return rows.map(toClass);
  }

  async addFields(appId: number, name: string, fields: ClassField[], at: Date): Promise<CustomClass | null> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<ClassRow>('SELECT * FROM custom_classes WHERE app_id = $1 AND name = $2 FOR UPDATE', [appId, name]);
      if (!rows[0]) return null;
      const cls = toClass(rows[0]);
      const added = fields.filter((f) => !cls.fields.some((g) => g.name === f.name));
      if (added.length === 0) return cls;
      const updated = await tx.query<ClassRow>('UPDATE custom_classes SET fields = $1, updated_at = $2 WHERE app_id = $3 AND name = $4 RETURNING *',
        [JSON.stringify([...cls.fields, ...added]), at.getTime(), appId, name]);
      return toClass(updated.rows[0]);
    });
  }

  async deleteClass(appId: number, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM custom_classes WHERE app_id = $1 AND name = $2', [appId, name]);
    return (rowCount ?? 0) > 0;
  }

  async insertRecords(records: CustomRecord[]): Promise<void> {
    if (records.length === 0) return;
    const values: unknown[] = [];
    const rows = records.map((r) => {
      const offset = values.length;
      values.push(r.id, r.appId, r.className, r.parentId, r.userId, JSON.stringify(r.fields), permissionsJson(r.permissions), r.createdAt.getTime(), r.updatedAt.getTime());
      return `(${placeholders(9, offset)})`;
    });
    await this.pool.query(
      `INSERT INTO custom_records (id, app_id, class_name, parent_id, user_id, fields, permissions, created_at, updated_at) VALUES ${rows.join(', ')}`, values);
  }

  async getRecords(appId: number, className: string, ids: string[]): Promise<CustomRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<RecordRow>(
      `SELECT ${COLUMNS} FROM custom_records r WHERE r.app_id = $1 AND r.class_name = $2 AND r.id = ANY($3::text[]) ORDER BY r.id`, [appId, className, ids]);
    return rows.map(toRecord);
  }

  async queryRecords(query: RecordQuery): Promise<CustomRecord[]> {
    const params: unknown[] = [];
    const sql = selectRecords(dialect(params), query, 'custom_records', COLUMNS);
    const { rows } = await this.pool.query<RecordRow>(sql, params);
    return rows.map(toRecord);
  }

  async countRecords(query: Omit<RecordQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    const params: unknown[] = [];
    const sql = countRecords(dialect(params), query, 'custom_records');
    const { rows } = await this.pool.query<{ n: string }>(sql, params);
    return Number(rows[0].n);
  }

  async groupRecords(query: GroupQuery): Promise<GroupRow[]> {
    const params: unknown[] = [];
    const { sql, aggregates } = groupRecords(dialect(params), query, 'custom_records');
    const { rows } = await this.pool.query<Record<string, unknown>>(sql, params);
    return rows.map((row) => ({
      key: row.k as FieldValue,
      count: Number(row.n),
      values: Object.fromEntries(aggregates.map((a) => [a.name, row[a.column] === null ? null : Number(row[a.column])])),
    }));
  }

  async updateRecord(appId: number, className: string, id: string, change: (record: CustomRecord) => CustomRecord): Promise<CustomRecord | null> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<RecordRow>(
        `SELECT ${COLUMNS} FROM custom_records r WHERE r.app_id = $1 AND r.class_name = $2 AND r.id = $3 FOR UPDATE`, [appId, className, id]);
      if (!rows[0]) return null;
      const next = change(toRecord(rows[0]));
      const updated = await tx.query<RecordRow>(
        `UPDATE custom_records r SET fields = $1, permissions = $2, updated_at = $3 WHERE r.id = $4 RETURNING ${COLUMNS}`,
        [JSON.stringify(next.fields), permissionsJson(next.permissions), next.updatedAt.getTime(), id]);
      return toRecord(updated.rows[0]);
    });
  }

  async deleteRecords(appId: number, className: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string }>(
      'DELETE FROM custom_records WHERE app_id = $1 AND class_name = $2 AND id = ANY($3::text[]) RETURNING id', [appId, className, ids]);
    const gone = new Set(rows.map((r) => r.id));
    return ids.filter((id) => gone.has(id));
  }
}
