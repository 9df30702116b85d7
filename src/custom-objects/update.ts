// An update of one record: plain fields (cast to their type; null clears) and QuickBlox's
// operators inc, push, pull (a value or a filter `pull[f][lt]=3`), pull_all, pop (1 = last,
// -1 = first), add_to_set. System fields the SDK sends back with the whole record are ignored.
import { ApiError } from '../chat/errors.js';
import { parseInteger, parseNumber, type Params } from '../chat/params.js';
import type { ClassField, CustomClass, FieldValue } from '../storage/custom-objects-types.js';
import { arrayItems, castScalar, castValue, MAX_ARRAY, RESERVED } from './fields.js';

const OPERATORS = ['inc', 'push', 'pull', 'pull_all', 'pop', 'add_to_set'] as const;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (field: string, text = 'is invalid') => new ApiError('invalidField', text, field);

/** The field named by an update; unknown names are errors (a typo must not pass silently). */
function fieldNamed(cls: CustomClass, name: string): ClassField {
  const field = cls.fields.find((f) => f.name === name);
  if (!field) throw invalid(name, `is not a field of class ${cls.name}`);
  return field;
}

function arrayField(cls: CustomClass, name: string, op: string): ClassField {
  const field = fieldNamed(cls, name);
  if (!field.isArray) throw invalid(name, `is not an array: ${op} needs one`);
  return field;
}

const same = (a: FieldValue, b: FieldValue) => JSON.stringify(a) === JSON.stringify(b);

function matchesPull(value: FieldValue, test: Record<string, unknown>, field: ClassField): boolean {
  return Object.entries(test).every(([op, raw]) => {
    const v = castScalar(field.type, raw, field.name) as number | string;
    const x = value as number | string;
    switch (op) {
      case 'lt': return x < v;
      case 'lte': return x <= v;
      case 'gt': return x > v;
      case 'gte': return x >= v;
      case 'ne': return x !== v;
      default: throw invalid(field.name, `pull takes lt, lte, gt, gte or ne, not ${op}`);
    }
  });
}

/** The record's fields after the update in `params`; throws 422 for unknown fields and bad values. */
export function applyUpdate(cls: CustomClass, current: Record<string, FieldValue>, params: Params): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = { ...current };
  const set = (name: string, value: FieldValue) => {
    if (value === null) delete fields[name];
    else fields[name] = value;
  };
  for (const [name, raw] of Object.entries(params)) {
    if (RESERVED.has(name) || name.startsWith('_')) continue;
    const field = fieldNamed(cls, name);
    // Files change only through /file.json; the SDK sends the whole record (file values included) back.
    if (field.type === 'File') continue;
    // `f[1]=x`: set one element of an array by its index.
    if (field.isArray && isRecord(raw) && Object.keys(raw).every((k) => /^\d+$/.test(k)) && Array.isArray(fields[name])) {
      const list = [...(fields[name] as FieldValue[])];
      for (const [index, value] of Object.entries(raw)) {
        const i = Number(index);
        if (i >= MAX_ARRAY) throw invalid(name, `has more than ${MAX_ARRAY} items`);
        while (list.length < i) list.push(null);
        list[i] = castScalar(field.type, value, name);
      }
      set(name, list);
      continue;
    }
    set(name, castValue(field, raw));
  }
  for (const op of OPERATORS) {
    const spec = params[op];
    if (spec === undefined) continue;
    if (!isRecord(spec)) throw invalid(op);
    for (const [name, raw] of Object.entries(spec)) {
      if (op === 'inc') {
        const field = fieldNamed(cls, name);
        if (field.isArray || (field.type !== 'Integer' && field.type !== 'Float')) throw invalid(name, 'is not a number: inc needs one');
        const by = field.type === 'Integer' ? parseInteger(raw) : parseNumber(raw);
        if (by === undefined) throw invalid(name);
        const next = ((fields[name] as number | undefined) ?? 0) + by;
        if (!Number.isFinite(next) || (field.type === 'Integer' && !Number.isSafeInteger(next))) throw invalid(name, 'is out of range');
        fields[name] = next;
        continue;
      }
      const field = arrayField(cls, name, op);
      const list = [...((fields[name] as FieldValue[] | undefined) ?? [])];
      let next: FieldValue[];
      switch (op) {
        case 'push':
          next = [...list, ...arrayItems(raw, name).map((v) => castScalar(field.type, v, name))];
          break;
        case 'add_to_set':
          next = [...list];
          for (const v of arrayItems(raw, name).map((x) => castScalar(field.type, x, name))) if (!next.some((x) => same(x, v))) next.push(v);
          break;
        case 'pull':
          next = isRecord(raw) && !Object.keys(raw).every((k) => /^\d+$/.test(k))
            ? list.filter((x) => !matchesPull(x, raw, field))
            : list.filter((x) => !same(x, castScalar(field.type, Array.isArray(raw) ? raw[0] : raw, name)));
          break;
        case 'pull_all': {
          const drop = arrayItems(raw, name).map((v) => castScalar(field.type, v, name));
          next = list.filter((x) => !drop.some((d) => same(d, x)));
          break;
        }
        case 'pop': {
          const end = parseInteger(raw);
          if (end !== 1 && end !== -1) throw invalid(name, 'pop takes 1 (the last item) or -1 (the first)');
          next = end === 1 ? list.slice(0, -1) : list.slice(1);
          break;
        }
      }
      if (next.length > MAX_ARRAY) throw invalid(name, `has more than ${MAX_ARRAY} items`);
      fields[name] = next;
    }
  }
  return fields;
}
