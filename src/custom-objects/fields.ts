// Custom-object field types: class definitions (`title:String,tags:String_a`), casting request
// values to a field's stored form, inferring a type on first use, and the values REST returns.
import { ApiError } from '../chat/errors.js';
import { parseBoolean, parseInteger, parseNumber } from '../chat/params.js';
import type { ClassField, FieldType, FieldValue } from '../storage/custom-objects-types.js';

export const CLASS_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const MAX_FIELDS = 100;
export const MAX_STRING = 10_000;
export const MAX_ARRAY = 1000;

/** Names a class field cannot take: the record's own columns and request keywords. */
export const RESERVED = new Set([
  'id', '_id', '_parent_id', 'parent_id', 'user_id', 'created_at', 'updated_at', 'permissions', 'class_name', 'token',
  'limit', 'skip', 'count', 'sort_asc', 'sort_desc', 'output', 'group_by', 'calc', 'search_criteria', 'record', 'field_name',
  'inc', 'push', 'pull', 'pull_all', 'pop', 'add_to_set',
]);

const TYPES: readonly FieldType[] = ['Integer', 'Float', 'Boolean', 'String', 'Date', 'Location', 'File'];
const ARRAY_TYPES: readonly FieldType[] = ['Integer', 'Float', 'Boolean', 'String'];

const invalid = (field: string, text = 'is invalid') => new ApiError('invalidField', text, field);

/** `Integer`, `String_a` (array) … as QuickBlox names them in class definitions. */
export function parseFieldType(name: string, spec: string): ClassField {
  const isArray = spec.endsWith('_a');
  const type = (isArray ? spec.slice(0, -2) : spec) as FieldType;
  if (!TYPES.includes(type) || (isArray && !ARRAY_TYPES.includes(type))) throw invalid(name, `has an unknown type "${spec}"`);
  return { name, type, isArray };
}

export function checkFieldName(name: string): void {
  if (!FIELD_NAME.test(name)) throw invalid(name, 'is not a valid field name (a letter, then letters, digits or _; at most 64)');
  if (RESERVED.has(name)) throw invalid(name, 'is a reserved name');
}

export function checkClassName(name: string): void {
  if (!CLASS_NAME.test(name)) throw invalid('name', 'is not a valid class name (a letter, then letters, digits or _; at most 64)');
}

/** `title:String,score:Integer,tags:String_a`, or an object `{title: "String"}`. */
export function parseFieldList(input: string | Record<string, unknown>): ClassField[] {
  const pairs: [string, string][] = typeof input === 'string'
    ? input.split(',').map((s) => s.trim()).filter(Boolean).map((pair) => {
      const [name, type, ...rest] = pair.split(':').map((s) => s.trim());
      if (!name || !type || rest.length) throw invalid('fields', `"${pair}" is not name:Type`);
      return [name, type];
    })
    : Object.entries(input).map(([name, type]) => [name, String(type)]);
  if (pairs.length > MAX_FIELDS) throw invalid('fields', `has more than ${MAX_FIELDS} fields`);
  const fields = pairs.map(([name, type]) => {
    checkFieldName(name);
    return parseFieldType(name, type);
  });
  if (new Set(fields.map((f) => f.name)).size !== fields.length) throw invalid('fields', 'names a field twice');
  return fields;
}

export const typeName = (f: ClassField): string => (f.isArray ? `${f.type}_a` : f.type);

/** `2019-09-21 21:21:00`, ISO 8601, or unix seconds → `2019-09-21T21:21:00Z`. */
export function castDate(raw: unknown, name: string): string {
  const seconds = parseNumber(raw);
  let ms: number;
  if (seconds !== undefined) ms = seconds * 1000;
  else if (typeof raw === 'string' && raw.length <= 64) {
    const text = raw.trim().replace(' ', 'T');
    ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) || !text.includes('T') ? text : `${text}Z`);
  } else ms = NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw invalid(name);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `"lon, lat"` or `[lon, lat]`. */
function castLocation(raw: unknown, name: string): [number, number] {
  const parts = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [];
  if (parts.length !== 2) throw invalid(name);
  const [lon, lat] = parts.map((p) => parseNumber(typeof p === 'string' ? p.trim() : p));
  if (lon === undefined || lat === undefined || Math.abs(lon) > 180 || Math.abs(lat) > 90) throw invalid(name);
  return [lon, lat];
}

/** One scalar of a field's type. */
export function castScalar(type: FieldType, raw: unknown, name: string): FieldValue {
  switch (type) {
    case 'Integer': {
      const n = parseInteger(typeof raw === 'string' ? raw.trim() : raw);
      if (n === undefined) throw invalid(name);
      return n;
    }
    case 'Float': {
      const n = parseNumber(raw);
      if (n === undefined) throw invalid(name);
      return n;
    }
    case 'Boolean': {
      const b = parseBoolean(typeof raw === 'string' ? raw.trim().toLowerCase() : raw);
      if (b === undefined) throw invalid(name);
      return b;
    }
    case 'String': {
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw invalid(name);
      const s = String(raw);
      if (s.length > MAX_STRING) throw invalid(name, `is too long (maximum is ${MAX_STRING} characters)`);
      return s;
    }
    case 'Date':
      return castDate(raw, name);
    case 'Location':
      return castLocation(raw, name);
    case 'File':
      throw invalid(name, 'is a file field: upload it with POST /data/<class>/<id>/file.json');
  }
}

/** The items of an array value: a JSON/qs array, an index-keyed object, or a comma list. */
export function arrayItems(raw: unknown, name: string): unknown[] {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (raw !== null && typeof raw === 'object' && Object.keys(raw).every((k) => /^\d+$/.test(k))) items = Object.values(raw);
  else if (typeof raw === 'string') items = raw === '' ? [] : raw.split(',').map((s) => s.trim());
  else if (typeof raw === 'number' || typeof raw === 'boolean') items = [raw];
  else throw invalid(name);
  if (items.length > MAX_ARRAY) throw invalid(name, `has more than ${MAX_ARRAY} items`);
  return items;
}

/** A request value cast to the field's stored form; null and "" clear the field. */
export function castValue(field: ClassField, raw: unknown): FieldValue {
  if (raw === null || (raw === '' && field.type !== 'String')) return null;
  if (field.isArray) return arrayItems(raw, field.name).map((item) => castScalar(field.type, item, field.name));
  return castScalar(field.type, Array.isArray(raw) && field.type !== 'Location' ? raw[0] : raw, field.name);
}

/** The type a first value suggests (classes created by first use); form values are read as text. */
export function inferField(name: string, raw: unknown): ClassField {
  checkFieldName(name);
  const scalar = (v: unknown): FieldType => {
    if (typeof v === 'boolean' || v === 'true' || v === 'false') return 'Boolean';
    if (typeof v === 'number') return Number.isInteger(v) ? 'Integer' : 'Float';
    if (typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) return 'Integer';
    if (typeof v === 'string' && parseNumber(v) !== undefined) return 'Float';
    return 'String';
  };
  if (Array.isArray(raw)) {
    const types = new Set(raw.map(scalar));
    const type = types.size === 1 ? [...types][0] : types.size === 2 && types.has('Integer') && types.has('Float') ? 'Float' : 'String';
    return { name, type, isArray: true };
  }
  if (raw !== null && typeof raw === 'object') throw invalid(name);
  return { name, type: scalar(raw), isArray: false };
}
