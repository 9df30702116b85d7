// QuickBlox's <extraParams xmlns="jabber:client"> on a groupchat: the flags the room acts on
// (save_to_history, date_sent, dialog_id), and attachments and custom parameters read exactly as
// the 1-1 history module reads them, so a message is stored alike whichever way it came.
import type { Element } from '../../xml/element.js';
import { CONTROL_FIELDS, getExtraParams, parseExtraParams } from '../qb-extra-params/index.js';

export interface ExtraParams {
  saveToHistory: boolean;
  /** Unix seconds as the client sent them (fractions kept; the chat service truncates). */
  dateSent?: number;
  dialogId?: string;
  attachments: Record<string, string>[];
  custom: Record<string, unknown>;
}

export function readExtraParams(stanza: Element): ExtraParams {
  const el = getExtraParams(stanza);
  if (!el) return { saveToHistory: false, attachments: [], custom: {} };
  const text = (name: string) => el.getChildText(name)?.trim() ?? '';
  const { attachments, custom } = parseExtraParams(el, CONTROL_FIELDS);
  const out: ExtraParams = { saveToHistory: ['1', 'true'].includes(text('save_to_history')), attachments, custom };
  const dateSent = Number(text('date_sent'));
  if (text('date_sent') !== '' && Number.isFinite(dateSent) && dateSent > 0) out.dateSent = dateSent;
  if (text('dialog_id')) out.dialogId = text('dialog_id');
  return out;
}

/** Client-supplied fields a relayed message must not carry (the server is the authority on them). */
export const STRIPPED_ON_RELAY = new Set(['sender_id', 'recipient_id', 'read', 'read_ids', 'delivered_ids', 'dialog_id']);
