// QuickBlox's <extraParams xmlns="jabber:client"> on a message: the flags the server acts on
// (save_to_history, date_sent, dialog_id), attachments (attribute maps) and custom parameters.
import type { Element } from '../../xml/element.js';

export interface ExtraParams {
  saveToHistory: boolean;
  /** Unix seconds as the client sent them (fractions kept; the chat service truncates). */
  dateSent?: number;
  dialogId?: string;
  attachments: Record<string, string>[];
  /** Flat custom parameters (`<key>value</key>`); nested elements are relayed but not stored. */
  custom: Record<string, string>;
}

const FLAGS = new Set(['save_to_history', 'date_sent', 'dialog_id', 'attachment']);
/** Never taken from a client: the server decides these (QuickBlox changelog 18.02.2), or they would change what the message is. */
const IGNORED = new Set(['sender_id', 'recipient_id', 'read', 'read_ids', 'delivered_ids', 'send_to_chat', 'system', 'chat_dialog_id', 'message', 'markable', '_id']);

export function extraParamsOf(stanza: Element): Element | undefined {
  return stanza.getChild('extraParams');
}

export function readExtraParams(stanza: Element): ExtraParams {
  const out: ExtraParams = { saveToHistory: false, attachments: [], custom: {} };
  const el = extraParamsOf(stanza);
  if (!el) return out;
  for (const child of el.getChildren()) {
    const name = child.localName;
    if (name === 'attachment') {
      out.attachments.push({ ...child.attrs });
      delete out.attachments[out.attachments.length - 1]!.xmlns;
    } else if (name === 'save_to_history') {
      out.saveToHistory = child.text().trim() === '1' || child.text().trim() === 'true';
    } else if (name === 'date_sent') {
      const n = Number(child.text().trim());
      if (child.text().trim() !== '' && Number.isFinite(n) && n > 0) out.dateSent = n;
    } else if (name === 'dialog_id') {
      out.dialogId = child.text().trim();
    } else if (!FLAGS.has(name) && !IGNORED.has(name) && child.getChildren().length === 0) {
      out.custom[name] = child.text();
    }
  }
  return out;
}

/** Client-supplied fields a relayed message must not carry (the server is the authority on them). */
export const STRIPPED_ON_RELAY = new Set(['sender_id', 'recipient_id', 'read', 'dialog_id']);
