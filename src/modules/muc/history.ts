// A room's history on join (`<history/>` of XEP-0045 §7.2.15), read from the stored dialog.
import type { C2sSession } from '../../core/api.js';
import type { ChatStore, Dialog } from '../../storage/types.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_DELAY } from '../../xmpp/ns.js';
import { storedGroupchat } from '../../qb/index.js';
import { addressed } from './presences.js';
import type { Room } from './rooms.js';

/** History a `<history/>` request may get at most (and what one without limits gets). */
const HISTORY_MAX = 100;
const HISTORY_DEFAULT = 20;

export interface HistoryRequest {
  limit: number;
  since?: number;
}

export function historyRequest(muc: Element | undefined): HistoryRequest | null {
  const el = muc?.getChild('history');
  if (!el) return null;
  const int = (name: string): number | undefined => {
    const v = el.attrs[name];
    if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
    return Number(v.trim());
  };
  const maxstanzas = int('maxstanzas');
  if (maxstanzas === 0 || int('maxchars') === 0) return null;
  const request: HistoryRequest = { limit: Math.min(maxstanzas ?? HISTORY_DEFAULT, HISTORY_MAX) };
  const seconds = int('seconds');
  if (seconds !== undefined) request.since = Math.floor(Date.now() / 1000) - seconds;
  const since = el.attrs.since ? Date.parse(el.attrs.since) : Number.NaN;
  if (Number.isFinite(since)) request.since = Math.max(request.since ?? 0, Math.floor(since / 1000));
  return request;
}

export async function sendHistory(history: ChatStore, room: Room, dialog: Dialog, session: C2sSession, request: HistoryRequest): Promise<void> {
  const messages = await history.listMessages({
    dialogId: dialog.id,
    viewerId: session.user!.userId,
    filters: request.since !== undefined ? [{ field: 'date_sent', op: 'gte', value: request.since }] : [],
    sort: { field: 'date_sent', direction: 'desc' },
    limit: request.limit,
    skip: 0,
  });
  const to = session.jid!.toString();
  for (const record of messages.reverse()) {
    const message = storedGroupchat(room.jid.bare, record);
    message.append(xml('delay', { xmlns: NS_DELAY, from: room.jid.bare, stamp: new Date(record.dateSent * 1000).toISOString() }));
    const slow = session.whenDrained();
    if (slow) await slow;
    session.send(addressed(message, to));
  }
}
