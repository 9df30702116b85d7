// Message archive (XEP-0313, urn:xmpp:mam:2, paged with XEP-0059) over QuickBlox history: the
// archive is the message store REST reads, so results carry the stored `_id` and a message saved
// with save_to_history (by either model) is found by a MAM query.
// - A user's archive (IQ to their own bare JID): every private dialog they occupy; `with` a user
//   JID narrows it to the private dialog with that user.
// - A room's archive (IQ to `<appId>_<dialogId>@muc.<domain>`): the group dialog's history, for
//   those who may use the room; `with` a `room/<userId>` (or that user's JID) narrows it to a sender.
// Messages the requester deleted for themselves over REST are not in their view of either archive.
import type { ModuleApi as Core, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import type { ArchiveFilter } from '../../storage/archive-types.js';
import type { ChatMessage, ChatStore, Dialog, HistoryCursor } from '../../storage/types.js';
import { Element, xml } from '../../xml/element.js';
import { NS_CLIENT, NS_DELAY } from '../../xmpp/ns.js';
import { StanzaError, errorReply } from '../../xmpp/errors.js';
import { Jid, parseUserLocal, userLocal, type UserAddress } from '../../xmpp/jid.js';
import { buildForm } from '../../xmpp/data-form.js';
import { storedMessagePayload } from '../../qb/index.js';
import { archiveHooks } from './archive-all.js';
import { ArchiveSettings } from './settings.js';
import { NS_MAM, NS_MAM_EXTENDED, NS_RSM, readMamQuery, type MamQuery } from './query.js';

export { NS_MAM } from './query.js';
export { ArchiveSettings, ARCHIVE_ALL_KEY } from './settings.js';
const NS_FORWARD = 'urn:xmpp:forward:0';
const PRIVATE = 3;

const stamp = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Where a query reads from and how its results are addressed. */
interface Archive {
  /** The archive's JID: results come from it. */
  jid: string;
  appId: number;
  viewer: UserAddress;
  filter: ArchiveFilter;
  /** Rebuilds a stored message as it was sent. */
  original(record: ChatMessage): Element;
}

/** The dialog behind a room JID that is not `<appId>_<dialogId>` (an open room), if the viewer may read it. */
export type RoomResolver = (appId: number, local: string, viewerId: number) => Promise<Dialog | null>;

export interface MamModule {
  readonly settings: ArchiveSettings;
  /** Lets another module name the dialogs of other room JIDs. */
  resolveRooms(resolver: RoomResolver): void;
}

export function mamModule(core: Core, chat: ChatService, store: ChatStore, settings: ArchiveSettings): MamModule {
  const userJid = (appId: number, userId: number): string => `${userLocal({ appId, userId })}@${core.domain}`;

  archiveHooks(core, settings);
  let resolveRoom: RoomResolver | null = null;

  /** The archive position of a message id, if the message is in this archive's view. */
  async function cursor(archive: Archive, id: string): Promise<HistoryCursor> {
    const [found] = await store.archiveMessages({ ...archive.filter, ids: [id], order: 'asc', limit: 1 });
    if (!found) throw new StanzaError('item-not-found', `No message ${id} in this archive.`);
    return { dateSent: found.dateSent, id: found.id };
  }

  /** Runs the query: result messages go to the requester, the returned <fin/> ends the IQ. */
  async function answer(archive: Archive, q: MamQuery, requester: Jid, send: (el: Element) => void): Promise<Element> {
    const filter: ArchiveFilter = { ...archive.filter };
    if (q.start !== undefined) filter.start = q.start;
    if (q.end !== undefined) filter.end = q.end;
    if (q.ids !== undefined) filter.ids = q.ids;
    const after = q.afterId ? await cursor(archive, q.afterId) : undefined;
    const before = q.beforeId ? await cursor(archive, q.beforeId) : undefined;
    // Paging backwards (RSM <before/>): the newest `max` before the bound, handed out oldest first.
    const backwards = q.beforeId !== undefined && q.afterId === undefined;
    const fetched = q.max === 0 ? [] : await store.archiveMessages({ ...filter, after, before, order: backwards ? 'desc' : 'asc', limit: q.max + 1 });
    const complete = fetched.length <= q.max;
    const page = fetched.slice(0, q.max);
    if (backwards) page.reverse();
    const count = await store.countArchive(filter);

    for (const record of page) {
      const result = xml('result', { xmlns: NS_MAM, id: record.id },
        xml('forwarded', { xmlns: NS_FORWARD }, xml('delay', { xmlns: NS_DELAY, stamp: stamp(record.dateSent) }), archive.original(record)));
      if (q.queryId !== undefined) result.attrs.queryid = q.queryId;
      send(xml('message', { from: archive.jid, to: requester.toString(), id: `mam-${record.id}` }, result));
    }
    const set = xml('set', { xmlns: NS_RSM });
    if (page.length > 0) {
      set.append(xml('first', null, page[0]!.id));
      set.append(xml('last', null, page.at(-1)!.id));
    }
    set.append(xml('count', null, String(count)));
    const fin = xml('fin', { xmlns: NS_MAM }, set);
    if (complete) fin.attrs.complete = 'true';
    if (q.queryId !== undefined) fin.attrs.queryid = q.queryId;
    return fin;
  }

  const fieldsForm = (): Element => xml('query', { xmlns: NS_MAM }, buildForm('form', [
    { var: 'FORM_TYPE', type: 'hidden', values: [NS_MAM] },
    { var: 'with', type: 'jid-single' },
    { var: 'start', type: 'text-single' },
    { var: 'end', type: 'text-single' },
    { var: 'before-id', type: 'text-single' },
    { var: 'after-id', type: 'text-single' },
    { var: 'ids', type: 'text-multi' },
  ]));

  // ---- a user's 1-1 archive --------------------------------------------------------------------

  async function userArchive(user: UserAddress, q: MamQuery): Promise<Archive> {
    let dialogId: string | null = null;
    let empty = false;
    if (q.with) {
      const other = q.with.domain === core.domain ? parseUserLocal(q.with.local) : null;
      const dialog = other && other.appId === user.appId ? await store.findPrivateDialog(user.appId, user.userId, other.userId) : null;
      if (dialog) dialogId = dialog.id;
      else empty = true;
    }
    const filter: ArchiveFilter = { appId: user.appId, viewerId: user.userId, dialogId };
    if (empty) filter.ids = [];
    return {
      jid: userJid(user.appId, user.userId),
      appId: user.appId,
      viewer: user,
      filter,
      original: (m) => xml('message', { xmlns: NS_CLIENT, type: 'chat', id: m.id, from: userJid(m.appId, m.senderId), to: userJid(m.appId, m.recipientId) },
        ...storedMessagePayload(m)),
    };
  }

  const ownUser = (from: Jid, to: Jid, session: C2sSession | null): UserAddress => {
    if (from.bare !== to.bare || !session?.user) throw new StanzaError('forbidden', "Only the archive's owner may read it.");
    return session.user;
  };

  core.handleIq({
    scope: 'account',
    xmlns: NS_MAM,
    name: 'query',
    get: ({ from, to, session }) => {
      ownUser(from, to, session);
      return fieldsForm();
    },
    set: async ({ payload, from, to, session }) => {
      const user = ownUser(from, to, session);
      const q = readMamQuery(payload);
      return answer(await userArchive(user, q), q, from, (el) => session!.send(el));
    },
  });

  // Preferences (§6) describe the application's policy; a user cannot change it: QuickBlox apps
  // decide per message (save_to_history), the operator per application (mam_archive_all).
  core.handleIq({
    scope: 'account',
    xmlns: NS_MAM,
    name: 'prefs',
    get: async ({ from, to, session }) => {
      const user = ownUser(from, to, session);
      const all = await settings.archiveAll(user.appId);
      return xml('prefs', { xmlns: NS_MAM, default: all ? 'always' : 'never' }, xml('always'), xml('never'));
    },
    set: ({ from, to, session }) => {
      ownUser(from, to, session);
      throw new StanzaError('not-allowed', 'What is archived is set per application (mam_archive_all) and per message (save_to_history).');
    },
  });

  // ---- a room's archive ------------------------------------------------------------------------

  function roomArchive(dialog: Dialog, viewer: UserAddress, roomJid: string, q: MamQuery): Archive {
    const filter: ArchiveFilter = { appId: dialog.appId, viewerId: viewer.userId, dialogId: dialog.id };
    if (q.with) {
      const nick = q.with.bare === roomJid ? q.with.resource : q.with.domain === core.domain ? String(parseUserLocal(q.with.local)?.userId ?? '') : '';
      if (/^[1-9][0-9]{0,15}$/.test(nick)) filter.senderId = Number(nick);
      else if (q.with.bare !== roomJid || q.with.resource !== '') filter.ids = [];
    }
    return {
      jid: roomJid,
      appId: dialog.appId,
      viewer,
      filter,
      original: (m) => xml('message', { xmlns: NS_CLIENT, type: 'groupchat', id: m.id, from: `${roomJid}/${m.senderId}` }, ...storedMessagePayload(m)),
    };
  }

  async function roomQuery({ stanza, from, to, origin }: RouteContext): Promise<true | undefined> {
    const payloads = stanza.getChildren();
    const payload = payloads.length === 1 ? payloads[0]! : undefined;
    if (!payload || payload.localName !== 'query' || payload.namespace() !== NS_MAM || !to.local) return undefined;
    const type = stanza.attrs.type;
    if (type !== 'get' && type !== 'set') return undefined;
    const reply = (child: Element | null): void => {
      const iq = xml('iq', { type: 'result', id: stanza.attrs.id ?? '', from: to.bare, to: from.toString() }, child);
      if (origin) origin.send(iq);
      else void core.route(iq);
    };
    try {
      const viewer = parseUserLocal(from.local);
      const address = /^([1-9][0-9]{0,15})_([0-9a-f]{24})$/.exec(to.local);
      const dialog = !viewer ? null
        : address ? (Number(address[1]) === viewer.appId ? await chat.findDialog(viewer.appId, address[2]!) : null)
          : resolveRoom ? await resolveRoom(viewer.appId, to.local, viewer.userId) : null;
      if (!viewer || !dialog || dialog.type === PRIVATE) throw new StanzaError('item-not-found', 'There is no such room.');
      if (!chat.canUseRoom(dialog, viewer.userId)) throw new StanzaError('forbidden', 'You are not an occupant of this dialog.');
      if (!to.isBare) throw new StanzaError('bad-request', "A room's archive is queried at the room's bare JID.");
      if (type === 'get') {
        reply(fieldsForm());
        return true;
      }
      const q = readMamQuery(payload);
      const send = (el: Element): void => (origin ? origin.send(el) : void core.route(el));
      reply(await answer(roomArchive(dialog, viewer, to.bare, q), q, from, send));
    } catch (err) {
      const error = err instanceof StanzaError ? err : new StanzaError('internal-server-error');
      if (!(err instanceof StanzaError)) core.log.error({ err }, 'room archive query failed');
      const iq = errorReply(stanza, error);
      iq.attrs.from = to.bare;
      if (origin) origin.send(iq);
      else void core.route(iq);
    }
    return true;
  }
  core.on('iq/muc', 'archive', roomQuery);

  // Advertised on the account (XEP-0313 §7.1) and, for discovery by server, on the domain too.
  core.on('disco/account-info', 'archive', ({ query }) => {
    query.append(xml('feature', { var: NS_MAM }));
    query.append(xml('feature', { var: NS_MAM_EXTENDED }));
    return undefined;
  });
  return {
    settings,
    resolveRooms(resolver) {
      resolveRoom = resolver;
    },
  };
}
