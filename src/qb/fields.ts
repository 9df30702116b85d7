// The field names the QuickBlox stanza codec treats specially, all derived from chat's message
// fields (chat/message-fields.ts) plus what the QuickBlox SDKs trip on.
import { FORGEABLE_FIELDS, MESSAGE_FIELDS, RESERVED_MESSAGE_PARAMETERS } from '../chat/message-fields.js';

export const NS_CHAT_MARKERS = 'urn:xmpp:chat-markers:0';
export const EXTRA_PARAMS = 'extraParams';
export const SYSTEM_NOTIFICATIONS = 'SystemNotifications';

/** extraParams fields with a meaning for storage, kept out of the custom parameters. */
export const CONTROL_FIELDS: ReadonlySet<string> = new Set<string>(MESSAGE_FIELDS);

/** Server-owned fields: a client's values are never stored, and are dropped from what is relayed. */
export const FORGEABLE: ReadonlySet<string> = new Set<string>(FORGEABLE_FIELDS);

/** Never written back as custom parameters of a message (they are fields of their own, or the API's). */
export const NOT_CUSTOM: ReadonlySet<string> = RESERVED_MESSAGE_PARAMETERS;

/**
 * Names the SDKs look up depth-first anywhere in a stanza (QuickBlox JS SDK robustness rule 7):
 * a custom parameter with one of these names makes the receiving SDK misreport the message, so the
 * server never writes one itself.
 */
export const SDK_RESERVED_NAMES: ReadonlySet<string> = new Set([
  'received', 'displayed', 'composing', 'paused', 'active', 'inactive', 'gone', 'markable', 'invite', 'delay', 'body',
  'extraParams', 'forwarded', 'x', 'status', 'message', 'sent', 'attachment', 'moduleIdentifier',
]);

const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A name XML can carry as an element or attribute name (no prefix). */
export const isXmlName = (name: string): boolean => name.length <= 256 && XML_NAME.test(name);

/** A name the server may write as an element or attribute (no prefixes, nothing the SDK trips on). */
export const isSafeName = (name: string): boolean => isXmlName(name) && !/^xml/i.test(name) && !SDK_RESERVED_NAMES.has(name);
