// Reading a MAM query (XEP-0313 v2 form + XEP-0059 RSM) into bounded, validated parameters.
import type { Element } from '../../xml/element.js';
import { StanzaError } from '../../xmpp/errors.js';
import { Jid } from '../../xmpp/jid.js';
import { formValue, readForm } from '../../xmpp/data-form.js';

export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_MAM_EXTENDED = 'urn:xmpp:mam:2#extended';
export const NS_RSM = 'http://jabber.org/protocol/rsm';
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 250;
const MAX_IDS = 250;
const OBJECT_ID = /^[0-9a-f]{24}$/;

export interface MamQuery {
  queryId?: string;
  with?: Jid;
  /** Unix seconds, inclusive. */
  start?: number;
  end?: number;
  afterId?: string;
  /** An empty string: the last page. */
  beforeId?: string;
  ids?: string[];
  max: number;
}

function seconds(text: string | undefined, field: string, round: (n: number) => number): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const ms = Date.parse(text.trim());
  if (!Number.isFinite(ms) || !/^\d{4}-\d\d-\d\dT/.test(text.trim())) throw new StanzaError('bad-request', `${field} is not an XEP-0082 date and time.`);
  return round(ms / 1000);
}

/** A message id as the archive knows them (24 hex, case-insensitive); anything else cannot be in it. */
function archiveId(text: string | undefined, what: string): string | undefined {
  if (text === undefined) return undefined;
  const id = text.trim().toLowerCase();
  if (!OBJECT_ID.test(id)) throw new StanzaError('item-not-found', `${what} is not an id in this archive.`);
  return id;
}

export function readMamQuery(payload: Element): MamQuery {
  const queryId = payload.attrs.queryid;
  if (queryId !== undefined && queryId.length > 256) throw new StanzaError('bad-request', 'queryid is too long.');
  const form = readForm(payload.getChild('x', 'jabber:x:data'), NS_MAM);
  const known = new Set(['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids']);
  for (const name of form.keys()) {
    if (!known.has(name)) throw new StanzaError('bad-request', `The archive cannot filter by ${name}.`);
  }
  const q: MamQuery = { queryId, max: DEFAULT_PAGE };
  const withText = formValue(form, 'with');
  if (withText !== undefined && withText.trim() !== '') {
    const jid = Jid.parse(withText.trim());
    if (!jid) throw new StanzaError('jid-malformed', 'with is not a JID.');
    q.with = jid;
  }
  q.start = seconds(formValue(form, 'start'), 'start', Math.ceil);
  q.end = seconds(formValue(form, 'end'), 'end', Math.floor);
  q.afterId = archiveId(formValue(form, 'after-id'), 'after-id');
  q.beforeId = archiveId(formValue(form, 'before-id'), 'before-id');
  const ids = form.get('ids');
  if (ids) {
    if (ids.length > MAX_IDS) throw new StanzaError('policy-violation', `At most ${MAX_IDS} ids.`);
    q.ids = ids.map((i) => i.trim().toLowerCase()).filter((i) => OBJECT_ID.test(i));
  }

  const set = payload.getChild('set', NS_RSM);
  if (set) {
    const max = set.getChildText('max');
    if (max !== undefined) {
      if (!/^\s*\d{1,9}\s*$/.test(max)) throw new StanzaError('bad-request', 'RSM max must be a non-negative integer.');
      q.max = Math.min(Number(max), MAX_PAGE);
    }
    if (set.getChild('index')) throw new StanzaError('feature-not-implemented', 'Paging by index is not supported; use after and before.');
    const after = set.getChildText('after');
    if (after !== undefined) q.afterId = archiveId(after, 'RSM after');
    const before = set.getChild('before');
    if (before) q.beforeId = before.text().trim() === '' ? '' : archiveId(before.text(), 'RSM before');
  }
  return q;
}
