// DataService: QuickBlox custom objects (/data/<Class>) for REST and the CLI. Inputs named `params`
// are loose records as `qs` or a JSON body make them; errors are ApiErrors in QuickBlox's shapes.
import { ApiError } from '../chat/errors.js';
import { indexedValues, isIndexKeyed, parseBoolean, parseList, type Params } from '../chat/params.js';
import { newObjectId, normalizeObjectId } from '../chat/objectid.js';
import type { ClassField, CustomClass, CustomRecord, FieldValue, RecordQuery, Viewer } from '../storage/custom-objects-types.js';
import { DuplicateClassError } from '../storage/custom-objects-types.js';
import type { Store } from '../storage/types.js';
import { castValue, checkClassName, inferField, MAX_FIELDS, RESERVED, typeName } from './fields.js';
import { allowed, DEFAULT_PERMISSIONS, parsePermissions, permissionsView } from './permissions.js';
import { PAGE_MAX, parseFilters, parseGrouping, parseOutput, parsePaging, parseSort } from './query.js';
import { applyUpdate } from './update.js';

/** The application setting that lets a first record create its class (`parley apps set`). */
export const AUTO_CREATE_SETTING = 'custom_objects_auto_create';
export const MAX_BATCH = 100;
/** How many records one by_criteria delete removes at most. */
export const MAX_CRITERIA_DELETE = 10_000;

export interface DataCaller {
  appId: number;
  viewer: Viewer;
}

export type RecordView = Record<string, unknown>;

export interface FileInfo {
  file_id: string;
  name: string;
  size: number;
  content_type: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

export function classView(cls: CustomClass): Record<string, unknown> {
  return {
    name: cls.name,
    application_id: cls.appId,
    custom_fields: cls.fields.map((f) => ({ name: f.name, type: f.type, ...(f.isArray ? { is_array: '1' } : {}) })),
    fields: Object.fromEntries(cls.fields.map((f) => [f.name, typeName(f)])),
    created_at: seconds(cls.createdAt),
    updated_at: seconds(cls.updatedAt),
  };
}

export function recordView(cls: CustomClass, r: CustomRecord, options: { permissions?: boolean; output?: { include?: Set<string>; exclude?: Set<string> } } = {}): RecordView {
  const view: RecordView = { _id: r.id, _parent_id: r.parentId, user_id: r.userId, created_at: seconds(r.createdAt), updated_at: seconds(r.updatedAt) };
  for (const f of cls.fields) view[f.name] = r.fields[f.name] ?? null;
  const { include, exclude } = options.output ?? {};
  if (include) for (const key of Object.keys(view)) if (key !== '_id' && !include.has(key)) delete view[key];
  if (exclude) for (const key of exclude) if (key !== '_id') delete view[key];
  if (options.permissions) view.permissions = permissionsView(r.permissions);
  return view;
}

export class DataService {
  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  // ---- classes (operator) ---------------------------------------------------------------------

  async createClass(appId: number, name: string, fields: ClassField[]): Promise<CustomClass> {
    checkClassName(name);
    const at = new Date(this.now());
    try {
      return await this.store.customObjects.createClass({ appId, name, fields, createdAt: at, updatedAt: at });
    } catch (err) {
      if (err instanceof DuplicateClassError) throw new ApiError('invalidField', 'has already been taken', 'name');
      throw err;
    }
  }

  // ---- records --------------------------------------------------------------------------------

  /** The class, or 404; `firstUse` fields create it (or add them) when the application allows it. */
  private async classFor(appId: number, name: string, firstUse?: Params): Promise<CustomClass> {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) throw new ApiError('notFound', 'Class not found');
    const cls = await this.store.customObjects.getClass(appId, name);
    const unknown = firstUse ? Object.keys(firstUse).filter((k) => !RESERVED.has(k) && !k.startsWith('_') && !cls?.fields.some((f) => f.name === k)) : [];
    if (cls && unknown.length === 0) return cls;
    if (!firstUse || (await this.store.appSettings.get(appId, AUTO_CREATE_SETTING)) !== true) {
      if (!cls) throw new ApiError('notFound', 'Class not found');
      return cls;
    }
    const inferred = unknown.map((k) => inferField(k, firstUse[k]));
    if ((cls?.fields.length ?? 0) + inferred.length > MAX_FIELDS) throw new ApiError('invalidField', `has more than ${MAX_FIELDS} fields`, 'fields');
    if (!cls) {
      try {
        return await this.createClass(appId, name, inferred);
      } catch (err) {
        if (!(err instanceof ApiError && err.field === 'name')) throw err; // created meanwhile: extend it instead
      }
    }
    return (await this.store.customObjects.addFields(appId, name, inferred, new Date(this.now())))!;
  }

  private newRecord(caller: DataCaller, cls: CustomClass, params: Params, parentId: string | null): CustomRecord {
    if (!caller.viewer.unrestricted && caller.viewer.userId === null) throw new ApiError('forbidden', 'An application session can only read records');
    const fields: Record<string, FieldValue> = {};
    for (const [name, raw] of Object.entries(params)) {
      if (RESERVED.has(name) || name.startsWith('_')) continue;
      const field = cls.fields.find((f) => f.name === name);
      if (!field) throw new ApiError('invalidField', `is not a field of class ${cls.name}`, name);
      const value = castValue(field, raw);
      if (value !== null) fields[name] = value;
    }
    const parent = parentId ?? (params._parent_id === undefined || params._parent_id === '' || params._parent_id === null ? null : normalizeObjectId(params._parent_id));
    if (parent === null && params._parent_id !== undefined && params._parent_id !== '' && params._parent_id !== null) throw new ApiError('invalidField', 'is invalid', '_parent_id');
    const at = new Date(this.now());
    return {
      id: newObjectId(at.getTime()), appId: caller.appId, className: cls.name, parentId: parent, userId: caller.viewer.userId ?? 0,
      fields, permissions: parsePermissions(params.permissions), createdAt: at, updatedAt: at,
    };
  }

  private async readableParent(caller: DataCaller, parentClass: string, parentId: string): Promise<string> {
    const cls = await this.classFor(caller.appId, parentClass);
    const id = normalizeObjectId(parentId);
    const [parent] = id ? await this.store.customObjects.getRecords(caller.appId, cls.name, [id]) : [];
    if (!parent || !allowed(caller.viewer, parent, 'read')) throw new ApiError('notFound', 'Parent record not found');
    return parent.id;
  }

  /** POST /data/<C>.json (and /data/<P>/<pid>/<C>.json for a child) → the record with its permissions. */
  async create(caller: DataCaller, className: string, params: Params, parent?: { className: string; id: string }): Promise<RecordView> {
    const cls = await this.classFor(caller.appId, className, params);
    const parentId = parent ? await this.readableParent(caller, parent.className, parent.id) : null;
    const record = this.newRecord(caller, cls, params, parentId);
    await this.store.customObjects.insertRecords([record]);
    return recordView(cls, record, { permissions: true });
  }

  /** POST /data/<C>/multi.json with `record[0][f]=…` → `{class_name, items}`; all or nothing. */
  async createMulti(caller: DataCaller, className: string, params: Params): Promise<Record<string, unknown>> {
    const items = this.batch(params.record);
    const merged: Params = Object.assign({}, ...items.map((p) => (isRecord(p) ? p : {})));
    const cls = await this.classFor(caller.appId, className, merged);
    const records = items.map((p, i) => {
      if (!isRecord(p)) throw new ApiError('invalidField', 'is invalid', `record.${i}`);
      return this.newRecord(caller, cls, p, null);
    });
    await this.store.customObjects.insertRecords(records);
    return { class_name: cls.name, items: records.map((r) => recordView(cls, r)) };
  }

  private batch(raw: unknown): unknown[] {
    const items = Array.isArray(raw) ? raw : isIndexKeyed(raw) ? indexedValues(raw) : null;
    if (!items || items.length === 0) throw new ApiError('invalidField', "can't be blank", 'record');
    if (items.length > MAX_BATCH) throw new ApiError('invalidField', `takes at most ${MAX_BATCH} records`, 'record');
    return items;
  }

  private query(caller: DataCaller, cls: CustomClass, params: Params, action: RecordQuery['action']): Omit<RecordQuery, 'limit' | 'skip'> {
    return { appId: caller.appId, className: cls.name, viewer: caller.viewer, action, ...parseFilters(cls, params), sort: parseSort(cls, params) };
  }

  /** GET /data/<C>.json → `{class_name, skip, limit, items}`; count=1 → `items_count`; group_by → groups. */
  async list(caller: DataCaller, className: string, params: Params, parent?: { className: string; id: string }): Promise<Record<string, unknown>> {
    const cls = await this.classFor(caller.appId, className);
    const ids = Object.keys(params).filter((k) => /^\d+$/.test(k));
    if (ids.length > 0) return this.getByIds(caller, className, ids.map((k) => String(params[k])));
    const query = this.query(caller, cls, params, 'read');
    if (parent) {
      const parentId = await this.readableParent(caller, parent.className, parent.id);
      query.conditions.push({ on: { system: '_parent_id' }, op: 'eq', value: parentId });
    }
    const paging = parsePaging(params);
    if (parseBoolean(params.count)) {
      return { class_name: cls.name, skip: paging.skip, limit: paging.limit, items_count: await this.store.customObjects.countRecords(query) };
    }
    const grouping = parseGrouping(cls, params);
    if (grouping) {
      const rows = await this.store.customObjects.groupRecords({ ...query, ...grouping, limit: paging.limit, skip: paging.skip });
      const items = rows.map((row) => {
        const item: Record<string, unknown> = { [grouping.groupBy.name]: row.key, count: row.count };
        for (const [key, value] of Object.entries(row.values)) {
          const [field, fn] = key.split('.');
          item[field] = { ...(item[field] as Record<string, unknown> | undefined), [fn]: value };
        }
        return item;
      });
      return { class_name: cls.name, skip: paging.skip, limit: paging.limit, items };
    }
    const sort = paging.last ? { on: { system: '_id' as const }, direction: 'desc' as const } : query.sort;
    const records = await this.store.customObjects.queryRecords({ ...query, sort, limit: paging.limit, skip: paging.skip });
    const output = parseOutput(cls, params);
    return { class_name: cls.name, skip: paging.skip, limit: paging.last ? -1 : paging.limit, items: records.map((r) => recordView(cls, r, { output })) };
  }

  private ids(raw: string[] | string): string[] {
    const list = Array.isArray(raw) ? raw : parseList(raw) ?? [];
    if (list.length === 0) throw new ApiError('notFound');
    if (list.length > MAX_BATCH) throw new ApiError('badRequest', `At most ${MAX_BATCH} ids at once.`);
    return [...new Set(list.map((s) => s.trim()))];
  }

  /** GET /data/<C>/<id,id>.json → `{class_name, items, not_found:{ids}}` (unreadable records count as not found). */
  async getByIds(caller: DataCaller, className: string, rawIds: string[] | string): Promise<Record<string, unknown>> {
    const cls = await this.classFor(caller.appId, className);
    const ids = this.ids(rawIds);
    const valid = ids.map((id) => normalizeObjectId(id)).filter((id): id is string => id !== null);
    const found = (await this.store.customObjects.getRecords(caller.appId, cls.name, valid)).filter((r) => allowed(caller.viewer, r, 'read'));
    const foundIds = new Set(found.map((r) => r.id));
    return { class_name: cls.name, items: found.map((r) => recordView(cls, r)), not_found: { ids: ids.filter((id) => !foundIds.has(normalizeObjectId(id) ?? '')) } };
  }

  /** One record's update; null when it does not exist. Throws 403 when the caller may not change it. */
  private async updateOne(caller: DataCaller, cls: CustomClass, rawId: unknown, params: Params): Promise<CustomRecord | null> {
    const id = normalizeObjectId(rawId);
    if (!id) return null;
    return this.store.customObjects.updateRecord(caller.appId, cls.name, id, (current) => {
      if (!allowed(caller.viewer, current, 'update')) throw new ApiError('forbidden', 'Wrong permission');
      const ownsIt = caller.viewer.unrestricted || current.userId === caller.viewer.userId;
      if (params.permissions !== undefined && !ownsIt) throw new ApiError('forbidden', 'Only the owner can change the permissions of a record');
      return {
        ...current,
        fields: applyUpdate(cls, current.fields, params),
        permissions: parsePermissions(params.permissions, current.permissions),
        updatedAt: new Date(this.now()),
      };
    });
  }

  /** PUT /data/<C>/<id>.json → the record after the update. */
  async update(caller: DataCaller, className: string, id: string, params: Params): Promise<RecordView> {
    const cls = await this.classFor(caller.appId, className, this.plainFields(params));
    const record = await this.updateOne(caller, cls, id, params);
    if (!record) throw new ApiError('notFound');
    return recordView(cls, record, { permissions: true });
  }

  /** Field names an update sets directly (for classes that grow by first use). */
  private plainFields(params: Params): Params {
    return Object.fromEntries(Object.entries(params).filter(([k, v]) => !RESERVED.has(k) && !k.startsWith('_') && !isRecord(v)));
  }

  /** PUT /data/<C>/multi.json with `record[i][_id]=…` → `{class_name, not_found:{ids}, items}`. */
  async updateMulti(caller: DataCaller, className: string, params: Params): Promise<Record<string, unknown>> {
    const cls = await this.classFor(caller.appId, className);
    const items: RecordView[] = [];
    const notFound: string[] = [];
    for (const [i, raw] of this.batch(params.record).entries()) {
      if (!isRecord(raw)) throw new ApiError('invalidField', 'is invalid', `record.${i}`);
      const id = raw._id ?? raw.id;
      try {
        const record = await this.updateOne(caller, cls, id, raw);
        if (record) items.push(recordView(cls, record));
        else notFound.push(String(id));
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'forbidden')) throw err;
        notFound.push(String(id));
      }
    }
    return { class_name: cls.name, not_found: { ids: notFound }, items };
  }

  /** PUT (or POST) /data/<C>/by_criteria.json: `search_criteria` filters, the rest is the update. */
  async updateByCriteria(caller: DataCaller, className: string, params: Params): Promise<Record<string, unknown>> {
    const cls = await this.classFor(caller.appId, className);
    const criteria = params.search_criteria === undefined ? {} : params.search_criteria;
    if (!isRecord(criteria)) throw new ApiError('invalidField', 'is invalid', 'search_criteria');
    const query = this.query(caller, cls, criteria, 'update');
    const paging = parsePaging(criteria);
    const totalFound = await this.store.customObjects.countRecords(query);
    const matches = await this.store.customObjects.queryRecords({ ...query, limit: Math.min(paging.limit, PAGE_MAX), skip: paging.skip });
    const change: Params = Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'search_criteria' && k !== 'permissions'));
    const items: RecordView[] = [];
    for (const match of matches) {
      const record = await this.updateOne(caller, cls, match.id, change).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'forbidden') return null; // its permissions changed meanwhile
        throw err;
      });
      if (record) items.push(recordView(cls, record));
    }
    return { class_name: cls.name, skip: paging.skip, limit: paging.limit, total_found: totalFound, items };
  }

  /** DELETE /data/<C>/<ids>.json → the three id lists. */
  async delete(caller: DataCaller, className: string, rawIds: string): Promise<{ SuccessfullyDeleted: { ids: string[] }; NotFound: { ids: string[] }; WrongPermissions: { ids: string[] } }> {
    const cls = await this.classFor(caller.appId, className);
    const ids = this.ids(rawIds);
    const records = await this.store.customObjects.getRecords(caller.appId, cls.name, ids.map((id) => normalizeObjectId(id) ?? '').filter(Boolean));
    const byId = new Map(records.map((r) => [r.id, r]));
    const wrong: string[] = [];
    const notFound: string[] = [];
    const deletable: string[] = [];
    for (const raw of ids) {
      const record = byId.get(normalizeObjectId(raw) ?? '');
      if (!record || !allowed(caller.viewer, record, 'read')) notFound.push(raw);
      else if (!allowed(caller.viewer, record, 'delete')) wrong.push(raw);
      else deletable.push(record.id);
    }
    const deleted = await this.store.customObjects.deleteRecords(caller.appId, cls.name, deletable);
    await this.releaseFiles(cls, records.filter((r) => deleted.includes(r.id)));
    return { SuccessfullyDeleted: { ids: deleted }, NotFound: { ids: notFound }, WrongPermissions: { ids: wrong } };
  }

  /** DELETE /data/<C>/by_criteria.json (filters in the form body) → `{total_deleted}`. */
  async deleteByCriteria(caller: DataCaller, className: string, params: Params): Promise<{ total_deleted: number }> {
    const cls = await this.classFor(caller.appId, className);
    const query = this.query(caller, cls, params, 'delete');
    let total = 0;
    while (total < MAX_CRITERIA_DELETE) {
      const batch = await this.store.customObjects.queryRecords({ ...query, sort: undefined, limit: Math.min(500, MAX_CRITERIA_DELETE - total), skip: 0 });
      if (batch.length === 0) break;
      const deleted = await this.store.customObjects.deleteRecords(caller.appId, cls.name, batch.map((r) => r.id));
      await this.releaseFiles(cls, batch.filter((r) => deleted.includes(r.id)));
      total += deleted.length;
      if (deleted.length === 0) break;
    }
    return { total_deleted: total };
  }

  // ---- file fields ----------------------------------------------------------------------------

  /** Called with the files of deleted records (set by the REST layer, which owns the bytes). */
  onFilesReleased: (appId: number, files: FileInfo[]) => Promise<void> = async () => {};

  private async releaseFiles(cls: CustomClass, records: CustomRecord[]): Promise<void> {
    const fileFields = cls.fields.filter((f) => f.type === 'File');
    if (fileFields.length === 0) return;
    const files = records.flatMap((r) => fileFields.map((f) => r.fields[f.name]).filter(isRecord)) as unknown as FileInfo[];
    if (files.length > 0) await this.onFilesReleased(records[0].appId, files);
  }

  /** The File field and its record, checked for `action`; 404/403/422 otherwise. */
  async fileTarget(caller: DataCaller, className: string, rawId: string, fieldName: unknown, action: 'read' | 'update'): Promise<{ cls: CustomClass; record: CustomRecord; field: ClassField; file: FileInfo | null }> {
    const cls = await this.classFor(caller.appId, className);
    const field = typeof fieldName === 'string' ? cls.fields.find((f) => f.name === fieldName) : undefined;
    if (!field || field.type !== 'File') throw new ApiError('invalidField', 'is not a File field of the class', 'field_name');
    const id = normalizeObjectId(rawId);
    const [record] = id ? await this.store.customObjects.getRecords(caller.appId, cls.name, [id]) : [];
    if (!record || !allowed(caller.viewer, record, 'read')) throw new ApiError('notFound');
    if (!allowed(caller.viewer, record, action)) throw new ApiError('forbidden', 'Wrong permission');
    const file = record.fields[field.name];
    return { cls, record, field, file: isRecord(file) ? (file as unknown as FileInfo) : null };
  }

  /** Sets (or with null clears) a File field; returns the file it held before. */
  async setFile(caller: DataCaller, className: string, id: string, fieldName: string, file: FileInfo | null): Promise<FileInfo | null> {
    const { cls, record } = await this.fileTarget(caller, className, id, fieldName, 'update');
    let previous: FileInfo | null = null;
    const updated = await this.store.customObjects.updateRecord(caller.appId, cls.name, record.id, (current) => {
      if (!allowed(caller.viewer, current, 'update')) throw new ApiError('forbidden', 'Wrong permission');
      const before = current.fields[fieldName];
      previous = isRecord(before) ? (before as unknown as FileInfo) : null;
      const fields = { ...current.fields };
      if (file) fields[fieldName] = { ...file };
      else delete fields[fieldName];
      return { ...current, fields, updatedAt: new Date(this.now()) };
    });
    if (!updated) throw new ApiError('notFound');
    return previous;
  }
}
