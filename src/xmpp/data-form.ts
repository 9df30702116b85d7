// XEP-0004 data forms: reading a submitted form's fields (bounded) and building forms.
import { Element, xml } from '../xml/element.js';
import { StanzaError } from './errors.js';

export const NS_DATA = 'jabber:x:data';
const MAX_FIELDS = 64;
const MAX_VALUES = 256;
const MAX_VALUE_LENGTH = 4096;

/** The submitted values by field var (a field may have several); throws bad-request on a malformed form. */
export function readForm(x: Element | undefined, formType?: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  if (!x) return fields;
  const list = x.getChildren('field');
  if (list.length > MAX_FIELDS) throw new StanzaError('policy-violation', 'The form has too many fields.');
  for (const field of list) {
    const name = field.attrs.var;
    if (!name) continue;
    const values = field.getChildren('value');
    if (values.length > MAX_VALUES) throw new StanzaError('policy-violation', `Field ${name} has too many values.`);
    const texts = values.map((v) => v.text());
    if (texts.some((t) => t.length > MAX_VALUE_LENGTH)) throw new StanzaError('policy-violation', `A value of field ${name} is too long.`);
    fields.set(name, texts);
  }
  const type = fields.get('FORM_TYPE')?.[0];
  if (formType !== undefined && type !== undefined && type !== formType) throw new StanzaError('bad-request', `FORM_TYPE must be ${formType}.`);
  return fields;
}

export const formValue = (form: Map<string, string[]>, name: string): string | undefined => form.get(name)?.[0];

export interface FieldSpec {
  var: string;
  type?: string;
  label?: string;
  values?: string[];
  options?: { label?: string; value: string }[];
}

export function buildForm(type: 'form' | 'result' | 'submit', fields: FieldSpec[], extra: { title?: string; instructions?: string } = {}): Element {
  const x = xml('x', { xmlns: NS_DATA, type });
  if (extra.title) x.c('title').t(extra.title);
  if (extra.instructions) x.c('instructions').t(extra.instructions);
  for (const f of fields) {
    const field = x.c('field', { var: f.var });
    if (f.type) field.attrs.type = f.type;
    if (f.label) field.attrs.label = f.label;
    for (const o of f.options ?? []) field.append(xml('option', o.label ? { label: o.label } : null, xml('value', null, o.value)));
    for (const v of f.values ?? []) field.append(xml('value', null, v));
  }
  return x;
}
