// Reading QuickBlox's `<extraParams xmlns="jabber:client">` from a client's stanza: the one reader
// 1-1 history, markers, system messages and rooms share.
import type { Element } from '../xml/element.js';
import { parseBoolean, parseNumber } from '../chat/params.js';
import { CONTROL_FIELDS, EXTRA_PARAMS, FORGEABLE } from './fields.js';

export function getExtraParams(stanza: Element): Element | undefined {
  return stanza.getChild(EXTRA_PARAMS);
}

/**
 * Drops whitespace-only text between child elements, in place (the Node SDK reads `.children` of
 * text nodes and throws). Text-only elements such as `<body>` keep their text as it is.
 */
export function compact(el: Element): Element {
  let hasElements = false;
  for (const child of el.children) {
    if (typeof child !== 'string') {
      hasElements = true;
      // XHTML-IM is mixed content, where a space between elements is text.
      if (child.localName !== 'html') compact(child);
    }
  }
  if (hasElements) el.children = el.children.filter((c) => typeof c !== 'string' || c.trim() !== '');
  return el;
}

/** A custom parameter's value: its text, or for nested elements an object of the same. */
function fieldValue(el: Element): unknown {
  const children = el.getChildren();
  if (children.length === 0) return el.text();
  const out: Record<string, unknown> = {};
  for (const child of children) out[child.localName] = fieldValue(child);
  return out;
}

export interface ParsedExtraParams {
  /** One object per `<attachment>`, every attribute as given (minus xmlns). */
  attachments: Record<string, string>[];
  /** Other fields by name, except server-owned ones; first occurrence wins. */
  custom: Record<string, unknown>;
}

export function parseExtraParams(extra: Element, skip: ReadonlySet<string> = new Set()): ParsedExtraParams {
  const attachments: Record<string, string>[] = [];
  const custom: Record<string, unknown> = {};
  for (const child of extra.getChildren()) {
    const name = child.localName;
    if (name === 'attachment') {
      const attrs = { ...child.attrs };
      delete attrs.xmlns;
      attachments.push(attrs);
    } else if (!skip.has(name) && !FORGEABLE.has(name) && !(name in custom)) {
      custom[name] = fieldValue(child);
    }
  }
  return { attachments, custom };
}

/** `save_to_history` as QuickBlox reads it: 1 or true. */
export const savesToHistory = (extra: Element | undefined): boolean => parseBoolean(extra?.getChildText('save_to_history')?.trim()) === true;

/** The client's `date_sent` (Unix seconds), when it is a positive number. */
export function clientDateSent(extra: Element | undefined): number | undefined {
  const value = parseNumber(extra?.getChildText('date_sent')?.trim());
  return value !== undefined && value > 0 ? value : undefined;
}

export interface MessageExtraParams extends ParsedExtraParams {
  saveToHistory: boolean;
  /** Unix seconds as the client sent them (fractions kept; the chat service truncates). */
  dateSent?: number;
  dialogId?: string;
}

/** Everything a stored message takes from a client's extraParams. */
export function readExtraParams(stanza: Element): MessageExtraParams {
  const el = getExtraParams(stanza);
  if (!el) return { saveToHistory: false, attachments: [], custom: {} };
  const out: MessageExtraParams = { saveToHistory: savesToHistory(el), ...parseExtraParams(el, CONTROL_FIELDS) };
  const dateSent = clientDateSent(el);
  if (dateSent !== undefined) out.dateSent = dateSent;
  const dialogId = el.getChildText('dialog_id')?.trim();
  if (dialogId) out.dialogId = dialogId;
  return out;
}
