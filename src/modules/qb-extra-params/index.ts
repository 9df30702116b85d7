// QuickBlox's `<extraParams xmlns="jabber:client">` message payload: reading it from a client's
// stanza, and writing it for stanzas the server builds, in the shapes the QuickBlox SDKs parse.
// Shared by qb-history, chat-markers, qb-system-messages, carbons and (for group delivery) MUC.
// Nothing here registers anything with the core.
import { Element, xml } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import type { ChatMessage } from '../../storage/types.js';
import { ApiError } from '../../chat/errors.js';
import { StanzaError } from '../../xmpp/errors.js';

export const NS_CHAT_MARKERS = 'urn:xmpp:chat-markers:0';
export const EXTRA_PARAMS = 'extraParams';
export const SYSTEM_NOTIFICATIONS = 'SystemNotifications';

/**
 * Fields the server owns: a client's values are never stored and are dropped from what is relayed
 * (sender_id, recipient_id and read would let a client forge history fields).
 */
/** extraParams fields with a meaning for storage, kept out of the custom parameters. */
export const CONTROL_FIELDS: ReadonlySet<string> = new Set([
  'save_to_history', 'date_sent', 'dialog_id', 'chat_dialog_id', 'send_to_chat', 'system', 'markable', 'message', 'attachments',
  '_id', 'created_at', 'updated_at',
]);

export const FORGEABLE = new Set(['sender_id', 'recipient_id', 'read', 'read_ids', 'delivered_ids']);

/**
 * Names the SDKs look up depth-first anywhere in a stanza (QuickBlox JS SDK robustness rule 7):
 * a custom parameter with one of these names makes the receiving SDK misreport the message, so the
 * server never writes one itself.
 */
export const SDK_RESERVED_NAMES = new Set([
  'received', 'displayed', 'composing', 'paused', 'active', 'inactive', 'gone', 'markable', 'invite', 'delay', 'body',
  'extraParams', 'forwarded', 'x', 'status', 'message', 'sent', 'attachment', 'moduleIdentifier',
]);

const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A name the server may write as an element or attribute (no prefixes, nothing the SDK trips on). */
export const isSafeName = (name: string): boolean => XML_NAME.test(name) && !/^xml/i.test(name) && !SDK_RESERVED_NAMES.has(name);

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

/** The text of an extraParams field, or undefined. */
export function fieldText(extra: Element | undefined, name: string): string | undefined {
  return extra?.getChildText(name);
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

/** Text for a value of any JSON type (objects as JSON). */
const asText = (value: unknown): string =>
  typeof value === 'string' ? value : value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/** `<attachment .../>` with every attribute of a stored attachment (names that are not XML names are left out). */
export function attachmentElement(attachment: Record<string, unknown>): Element {
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(attachment)) {
    if (XML_NAME.test(key) && value !== undefined && value !== null) attrs[key] = asText(value);
  }
  return xml('attachment', attrs);
}

/** Custom parameters as extraParams children, skipping names the SDK would misread or XML cannot carry. */
export function customElements(custom: Record<string, unknown>, skip: ReadonlySet<string> = new Set()): Element[] {
  const out: Element[] = [];
  for (const [key, value] of Object.entries(custom)) {
    if (value === undefined || skip.has(key) || FORGEABLE.has(key) || !isSafeName(key)) continue;
    out.push(xml(key, null, asText(value)));
  }
  return out;
}

/** Parameters a stored message carries as fields of its own; never written again as custom ones. */
const STORED_FIELDS = new Set(['save_to_history', 'date_sent', 'dialog_id', 'chat_dialog_id', 'send_to_chat', 'system', 'markable', 'attachments', 'message', '_id']);

/**
 * The payload of a stored message as its recipients receive it (the stanza reference's receive
 * format): `<body>`, `<markable/>` when markable, then extraParams with save_to_history, date_sent,
 * dialog_id, the attachments and every custom parameter. Addresses, type and id are the caller's.
 */
export function storedMessagePayload(record: ChatMessage): Element[] {
  const children: Element[] = [];
  if (record.body !== '') children.push(xml('body', null, record.body));
  if (record.markable) children.push(xml('markable', { xmlns: NS_CHAT_MARKERS }));
  children.push(
    xml(
      EXTRA_PARAMS,
      { xmlns: NS_CLIENT },
      xml('save_to_history', null, '1'),
      xml('date_sent', null, String(record.dateSent)),
      xml('dialog_id', null, record.dialogId),
      ...record.attachments.map(attachmentElement),
      ...customElements(record.customParams, STORED_FIELDS),
    ),
  );
  return children;
}

/** A system notification's payload: optional body, extraParams led by moduleIdentifier=SystemNotifications. */
export function systemNotificationPayload(body: string, custom: Record<string, unknown>, attachments: Record<string, unknown>[] = []): Element[] {
  return [
    ...(body !== '' ? [xml('body', null, body)] : []),
    xml(
      EXTRA_PARAMS,
      { xmlns: NS_CLIENT },
      xml('moduleIdentifier', null, SYSTEM_NOTIFICATIONS),
      ...attachments.map(attachmentElement),
      ...customElements(custom, STORED_FIELDS),
    ),
  ];
}

/** The stanza error for a failed chat operation: QuickBlox API errors by status, anything else internal. */
export function stanzaErrorFor(err: unknown): StanzaError {
  if (err instanceof ApiError) {
    if (err.status === 403) return new StanzaError('forbidden', err.message);
    if (err.status === 404) return new StanzaError('item-not-found', err.message);
    if (err.status < 500) return new StanzaError('not-acceptable', err.message);
  }
  return new StanzaError('internal-server-error', 'the message could not be stored');
}
