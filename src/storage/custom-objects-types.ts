// Custom objects (QuickBlox `/data/<Class>`): classes with typed fields, and records whose field
// values live in one JSON document per record. The store evaluates queries (filters, permissions,
// sort, paging) in the database; the QuickBlox rules that turn request parameters into a query and
// apply update operators live in data/ and reach the store as plain values.

export type FieldType = 'Integer' | 'Float' | 'Boolean' | 'String' | 'Date' | 'Location' | 'File';

export interface ClassField {
  name: string;
  type: FieldType;
  /** Arrays exist for Integer, Float, Boolean and String (`String_a`). */
  isArray: boolean;
}

export interface CustomClass {
  appId: number;
  name: string;
  /** In creation order. */
  fields: ClassField[];
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A stored field value: numbers, booleans and strings as such; Date as `YYYY-MM-DDTHH:MM:SSZ` (so
 * text order is time order); Location as `[lon, lat]`; File as `{file_id, name, size, content_type}`;
 * arrays as JSON arrays.
 */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

export type Access = 'open' | 'owner' | 'open_for_users_ids' | 'open_for_groups';
export type RecordAction = 'read' | 'update' | 'delete';

export interface Permission {
  access: Access;
  /** For open_for_users_ids. */
  userIds: number[];
  /** For open_for_groups: user tags. */
  groups: string[];
}

export type RecordPermissions = Record<RecordAction, Permission>;

export interface CustomRecord {
  id: string; // 24-hex ObjectId
  appId: number;
  className: string;
  parentId: string | null;
  /** The creator. */
  userId: number;
  /** Only fields with a value; a class field that is absent reads as null. */
  fields: Record<string, FieldValue>;
  permissions: RecordPermissions;
  createdAt: Date;
  updatedAt: Date;
}

/** Who is asking: a user (with their tags), or an application-wide caller (app session, API key). */
export interface Viewer {
  /** null: no user (application session or API key without On-Behalf-Of). */
  userId: number | null;
  groups: string[];
  /** An API key without On-Behalf-Of: every record, every action. */
  unrestricted: boolean;
}

/** System columns a query may name besides class fields. */
export type SystemField = '_id' | '_parent_id' | 'user_id' | 'created_at' | 'updated_at';

/** The field a condition is about: a system column, or a class field (with its type). */
export type QueryField = { system: SystemField } | { field: ClassField };

export type ConditionOp = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'nin' | 'all' | 'ctn';

/**
 * One condition. Values are already cast to the field's stored form (times of system fields as
 * epoch milliseconds, compared to the second). On an array field eq/in mean "contains (one of)",
 * ne/nin "contains none of", all "contains every one of". `ctn` is a case-insensitive substring.
 */
export interface Condition {
  on: QueryField;
  op: ConditionOp;
  value: FieldValue;
  /** For in, nin, all. */
  values?: FieldValue[];
}

/** Records within `radiusM` metres of a point (great-circle distance). */
export interface NearCondition {
  field: ClassField;
  lon: number;
  lat: number;
  radiusM: number;
}

export interface RecordSort {
  on: QueryField;
  direction: 'asc' | 'desc';
}

export interface RecordQuery {
  appId: number;
  className: string;
  viewer: Viewer;
  /** Only records the viewer may do this to (read for lists). */
  action: RecordAction;
  /** All must hold. */
  conditions: Condition[];
  /** When not empty, at least one must hold (QuickBlox `f[or]=`). */
  anyOf: Condition[];
  near?: NearCondition;
  /** Default: `_id` ascending (creation order); with `near` and no sort, nearest first. Ties by `_id`. */
  sort?: RecordSort;
  limit: number;
  skip: number;
}

export type Aggregate = 'count' | 'sum' | 'avg' | 'min' | 'max';

export interface GroupQuery extends Omit<RecordQuery, 'sort'> {
  groupBy: ClassField;
  /** Per numeric field, the functions to compute for each group. */
  calc: { field: ClassField; fn: Aggregate }[];
}

export interface GroupRow {
  key: FieldValue;
  count: number;
  /** `<field>.<fn>` → value. */
  values: Record<string, number | null>;
}

export class DuplicateClassError extends Error {
  constructor(readonly className: string) {
    super(`class "${className}" already exists`);
    this.name = 'DuplicateClassError';
  }
}

export interface CustomObjectStore {
  /** Throws DuplicateClassError when the application already has the class. */
  createClass(cls: CustomClass): Promise<CustomClass>;
  getClass(appId: number, name: string): Promise<CustomClass | null>;
  listClasses(appId: number): Promise<CustomClass[]>;
  /** Appends fields that the class does not have yet (by name); returns the class after. Null when there is no class. */
  addFields(appId: number, name: string, fields: ClassField[], at: Date): Promise<CustomClass | null>;
  /** Deletes the class with all its records. */
  deleteClass(appId: number, name: string): Promise<boolean>;

  /** All or nothing. */
  insertRecords(records: CustomRecord[]): Promise<void>;
  /** The records of the class with these ids, whatever their permissions (the caller checks them). */
  getRecords(appId: number, className: string, ids: string[]): Promise<CustomRecord[]>;
  queryRecords(query: RecordQuery): Promise<CustomRecord[]>;
  countRecords(query: Omit<RecordQuery, 'sort' | 'limit' | 'skip'>): Promise<number>;
  /** Groups of the matching records, by group key ascending, paged like records. */
  groupRecords(query: GroupQuery): Promise<GroupRow[]>;
  /**
   * Read-modify-write of one record, atomic against other writers: `change` gets the stored record
   * and returns its new state (only fields, permissions and updatedAt are written) or throws to
   * change nothing. Null when there is no such record.
   */
  updateRecord(appId: number, className: string, id: string, change: (record: CustomRecord) => CustomRecord): Promise<CustomRecord | null>;
  /** Returns the ids that existed and are now gone. */
  deleteRecords(appId: number, className: string, ids: string[]): Promise<string[]>;
}
