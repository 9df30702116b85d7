import type Database from 'better-sqlite3';
import { countRecords, groupRecords, permissionsFromJson, permissionsJson, selectRecords, type SqlDialect } from '../custom-objects-sql.js';
import {
  DuplicateClassError, type ClassField, type CustomClass, type CustomObjectStore, type CustomRecord, type FieldValue, type GroupQuery,
  type GroupRow, type RecordAction, type RecordQuery,
} from '../custom-objects-types.js';

interface ClassRow {
  app_id: number;
  name: string;
  fields: string;
  created_at: number;
  updated_at: number;
}

interface RecordRow {
  id: string;
  app_id: number;
  class_name: string;
  parent_id: string | null;
  user_id: number;
  fields: string;
  permissions: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'r.id, r.app_id, r.class_name, r.parent_id, r.user_id, r.fields, r.permissions, r.created_at, r.updated_at';
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Field names are checked by the caller; this guards the JSON paths written into SQL. */
const path = (name: string, suffix = ''): string => {
  if (!FIELD_NAME.test(name)) throw new Error(`invalid field name ${JSON.stringify(name)}`);
  return `'$.${name}${suffix}'`;
};

const toClass = (r: ClassRow): CustomClass => ({
  appId: r.app_id, name: r.name, fields: JSON.parse(r.fields) as ClassField[], createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
});

const toRecord = (r: RecordRow): CustomRecord => ({
  id: r.id,
  appId: r.app_id,
  className: r.class_name,
  parentId: r.parent_id,
  userId: r.user_id,
  fields: JSON.parse(r.fields) as Record<string, FieldValue>,
  permissions: permissionsFromJson(r.permissions),
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

function dialect(params: unknown[]): SqlDialect {
  return {
    param(value) {
      params.push(value);
      return '?';
    },
    field: (f) => `json_extract(r.fields, ${path(f.name)})`,
    elements: (f) => ({ from: `json_each(r.fields, ${path(f.name)}) AS e`, value: 'e.value' }),
    access: (action: RecordAction) => `json_extract(r.permissions, '$.${action}.access')`,
    permissionList: (action, list) => ({ from: `json_each(r.permissions, '$.${action}.${list}') AS p`, value: 'p.value' }),
    bind: (value) => (typeof value === 'boolean' ? (value ? 1 : 0) : value),
    location: (f) => ({ lon: `json_extract(r.fields, ${path(f.name, '[0]')})`, lat: `json_extract(r.fields, ${path(f.name, '[1]')})` }),
    least: 'min',
  };
}

export class SqliteCustomObjectStore implements CustomObjectStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      insertClass: db.prepare<[number, string, string, number, number]>(
        'INSERT INTO custom_classes (app_id, name, fields, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
      getClass: db.prepare<[number, string], ClassRow>('SELECT * FROM custom_classes WHERE app_id = ? AND name = ?'),
      listClasses: db.prepare<[number], ClassRow>('SELECT * FROM custom_classes WHERE app_id = ? ORDER BY name'),
      setFields: db.prepare<[string, number, number, string]>('UPDATE custom_classes SET fields = ?, updated_at = ? WHERE app_id = ? AND name = ?'),
      deleteClass: db.prepare<[number, string]>('DELETE FROM custom_classes WHERE app_id = ? AND name = ?'),
      insertRecord: db.prepare<[Record<string, unknown>]>(
        `INSERT INTO custom_records (id, app_id, class_name, parent_id, user_id, fields, permissions, created_at, updated_at)
         VALUES (@id, @appId, @className, @parentId, @userId, @fields, @permissions, @createdAt, @updatedAt)`),
      getRecord: db.prepare<[number, string, string], RecordRow>(`SELECT ${COLUMNS} FROM custom_records r WHERE r.app_id = ? AND r.class_name = ? AND r.id = ?`),
      updateRecord: db.prepare<[string, string, number, string]>('UPDATE custom_records SET fields = ?, permissions = ?, updated_at = ? WHERE id = ?'),
      deleteRecord: db.prepare<[number, string, string]>('DELETE FROM custom_records WHERE app_id = ? AND class_name = ? AND id = ?'),
    };
  }

  async createClass(cls: CustomClass): Promise<CustomClass> {
    try {
      this.s.insertClass.run(cls.appId, cls.name, JSON.stringify(cls.fields), cls.createdAt.getTime(), cls.updatedAt.getTime());
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new DuplicateClassError(cls.name);
      throw err;
    }
    return (await this.getClass(cls.appId, cls.name))!;
  }

  async getClass(appId: number, name: string): Promise<CustomClass | null> {
    const row = this.s.getClass.get(appId, name);
    return row ? toClass(row) : null;
  }

  async listClasses(appId: number): Promise<CustomClass[]> {
    return this.s.listClasses.all(appId).map(toClass);
  }

  async addFields(appId: number, name: string, fields: ClassField[], at: Date): Promise<CustomClass | null> {
    const run = this.db.transaction(() => {
      const row = this.s.getClass.get(appId, name);
      if (!row) return null;
      const cls = toClass(row);
      const added = fields.filter((f) => !cls.fields.some((g) => g.name === f.name));
      if (added.length === 0) return cls;
      this.s.setFields.run(JSON.stringify([...cls.fields, ...added]), at.getTime(), appId, name);
      return toClass(this.s.getClass.get(appId, name)!);
    });
    return run.immediate();
  }

  async deleteClass(appId: number, name: string): Promise<boolean> {
    return this.s.deleteClass.run(appId, name).changes > 0;
  }

  async insertRecords(records: CustomRecord[]): Promise<void> {
    const run = this.db.transaction(() => {
      for (const r of records) {
        this.s.insertRecord.run({
          id: r.id, appId: r.appId, className: r.className, parentId: r.parentId, userId: r.userId,
          fields: JSON.stringify(r.fields), permissions: permissionsJson(r.permissions),
          createdAt: r.createdAt.getTime(), updatedAt: r.updatedAt.getTime(),
        });
      }
    });
    run();
  }

  async getRecords(appId: number, className: string, ids: string[]): Promise<CustomRecord[]> {
    if (ids.length === 0) return [];
    const rows = this.db.prepare<unknown[], RecordRow>(
      `SELECT ${COLUMNS} FROM custom_records r WHERE r.app_id = ? AND r.class_name = ? AND r.id IN (${ids.map(() => '?').join(', ')}) ORDER BY r.id`,
    ).all(appId, className, ...ids);
    return rows.map(toRecord);
  }

  async queryRecords(query: RecordQuery): Promise<CustomRecord[]> {
    const params: unknown[] = [];
    const sql = selectRecords(dialect(params), query, 'custom_records', COLUMNS);
    return this.db.prepare<unknown[], RecordRow>(sql).all(...params).map(toRecord);
  }

  async countRecords(query: Omit<RecordQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    const params: unknown[] = [];
    const sql = countRecords(dialect(params), query, 'custom_records');
    return (this.db.prepare<unknown[], { n: number }>(sql).get(...params)!).n;
  }

  async groupRecords(query: GroupQuery): Promise<GroupRow[]> {
    const params: unknown[] = [];
    const { sql, aggregates } = groupRecords(dialect(params), query, 'custom_records');
    const rows = this.db.prepare<unknown[], Record<string, unknown>>(sql).all(...params);
    return rows.map((row) => ({
      key: query.groupBy.type === 'Boolean' && row.k !== null ? row.k === 1 : (row.k as FieldValue),
      count: Number(row.n),
      values: Object.fromEntries(aggregates.map((a) => [a.name, row[a.column] === null ? null : Number(row[a.column])])),
    }));
  }

  async updateRecord(appId: number, className: string, id: string, change: (record: CustomRecord) => CustomRecord): Promise<CustomRecord | null> {
    const run = this.db.transaction(() => {
      const row = this.s.getRecord.get(appId, className, id);
      if (!row) return null;
      const next = change(toRecord(row));
      this.s.updateRecord.run(JSON.stringify(next.fields), permissionsJson(next.permissions), next.updatedAt.getTime(), id);
      return toRecord(this.s.getRecord.get(appId, className, id)!);
    });
    return run.immediate();
  }

  async deleteRecords(appId: number, className: string, ids: string[]): Promise<string[]> {
    const run = this.db.transaction(() => ids.filter((id) => this.s.deleteRecord.run(appId, className, id).changes > 0));
    return run();
  }
}
