// Writing QuickBlox payloads into stanzas the server builds, in the shapes the QuickBlox SDKs parse:
// one builder for a stored message, so 1-1 delivery, REST send_to_chat and room replays agree.
import { Element, xml } from '../xml/element.js';
import { NS_CLIENT } from '../xmpp/ns.js';
import type { ChatMessage } from '../storage/types.js';
import { EXTRA_PARAMS, FORGEABLE, NOT_CUSTOM, NS_CHAT_MARKERS, SYSTEM_NOTIFICATIONS, isSafeName, isXmlName } from './fields.js';

/** Text for a value of any JSON type (objects as JSON). */
const asText = (value: unknown): string =>
  typeof value === 'string' ? value : value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/** `<attachment .../>` with every attribute of a stored attachment (names that are not XML names are left out). */
export function attachmentElement(attachment: Record<string, unknown>): Element {
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(attachment)) {
    if (isXmlName(key) && value !== undefined && value !== null) attrs[key] = asText(value);
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
      ...customElements(record.customParams, NOT_CUSTOM),
    ),
  );
  return children;
}

/** A stored group-dialog message as its room sends it: a groupchat from `<room>/<sender id>`. */
export function storedGroupchat(roomJid: string, record: ChatMessage): Element {
  return xml('message', { xmlns: NS_CLIENT, type: 'groupchat', id: record.id, from: `${roomJid}/${record.senderId}` }, ...storedMessagePayload(record));
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
      ...customElements(custom, NOT_CUSTOM),
    ),
  ];
}
