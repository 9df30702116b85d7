// Open group chat for standard XMPP clients (XEP-0045) with message moderation (XEP-0425), beside
// the QuickBlox dialog rooms: a room `<name>@muc.<domain>` whose name is not `<appId>_<dialogId>`
// belongs to the application of whoever addresses it (rooms are isolated per application like
// users). The first join of an unknown name creates it, as a group dialog (type 2) named after
// the room and owned by the creator; whoever joins (or is made a member) becomes an occupant of
// the dialog, so it shows in their `GET /chat/Dialog.json`, its messages are the dialog's history
// (readable by its occupants only), and QuickBlox clients chat in it through the dialog's own
// room, which relays both ways. Nicks are free text; a nick maps to the user id of whoever
// holds it while they are in the room, and messages of users not in the room come from their
// user id. In a cluster, the nodes share each room's occupants and events through the dialog
// rooms' RoomDirectory (cluster.ts).
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import type { KeyValueStore } from '../../storage/account-data-types.js';
import type { ChatStore, Dialog } from '../../storage/types.js';
import type { Element } from '../../xml/element.js';
import type { Jid } from '../../xmpp/jid.js';
import { StanzaError } from '../../xmpp/errors.js';
import { NS_DISCO_INFO, NS_DISCO_ITEMS } from '../../xmpp/ns.js';
import { iqResult, parseRoomLocal, type MucModule } from '../muc/index.js';
import type { MamModule } from '../mam/index.js';
import { NS_MUC_ADMIN, NS_MUC_OWNER, openAdmin } from './admin.js';
import { openRoomsContext } from './context.js';
import { listRooms, roomInfo, roomItems } from './disco.js';
import { barred } from './live.js';
import { openMessages } from './messages.js';
import { moderationRequest, openModeration } from './moderation.js';
import { openPresences } from './presences.js';
import { openCluster } from './cluster.js';
import { OpenRoomStore, type RoomDoc } from './store.js';

const GROUP = 2;
const PRIVATE = 3;
const NO_SUCH_ROOM = 'There is no such room.';

export interface OpenRoomsDeps {
  chat: ChatService;
  history: ChatStore;
  keyValue: KeyValueStore;
  muc: MucModule;
  mam: MamModule;
}

export function openRoomsModule(core: ModuleApi, deps: OpenRoomsDeps): void {
  const ctx = openRoomsContext(core, deps.chat, deps.history, new OpenRoomStore(deps.keyValue), deps.muc);
  const presences = openPresences(ctx);
  const messages = openMessages(ctx);
  const admin = openAdmin(ctx, presences.depart);
  const moderate = openModeration(ctx);
  openCluster(ctx, admin.destroyHere);
  const isOpen = (to: Jid): boolean => to.local !== '' && parseRoomLocal(to.local) === null;

  core.on('presence/muc', 'open-rooms', async ({ stanza, to, origin }: RouteContext) => {
    if (!isOpen(to)) return undefined;
    const session = origin;
    if (!session?.jid || !session.user) return true;
    await ctx.serial(session.user.appId, to.bare, () => presences.presence(stanza, session, to));
    return true;
  });

  core.on('message/muc', 'open-rooms', async (route: RouteContext) => {
    const { stanza, to, origin } = route;
    if (!isOpen(route.to)) return undefined;
    if (!origin?.user || stanza.attrs.type === 'error') return true;
    const appId = origin.user.appId;
    await ctx.serial(appId, to.bare, async () => {
      const room = await ctx.load(appId, to.local, to.bare);
      if (!room) core.bounce(stanza, new StanzaError('item-not-found', NO_SUCH_ROOM), origin);
      else await messages.message(route, room);
    });
    return true;
  });

  async function iq(stanza: Element, session: C2sSession, to: Jid): Promise<Element | null> {
    const type = stanza.attrs.type!;
    const payloads = stanza.getChildren();
    const payload = payloads.length === 1 ? payloads[0]! : undefined;
    const ns = payload?.attrs.xmlns;
    const room = await ctx.load(session.user!.appId, to.local, to.bare);
    if (!room) throw new StanzaError('item-not-found', NO_SUCH_ROOM);
    if (!payload || !to.isBare) throw new StanzaError('service-unavailable');
    if (type === 'get' && payload.localName === 'query' && ns === NS_DISCO_INFO && !payload.attrs.node) return roomInfo(room);
    if (type === 'get' && payload.localName === 'query' && ns === NS_DISCO_ITEMS) return roomItems(room, session.user!.userId);
    if (payload.localName === 'query' && ns === NS_MUC_ADMIN) return admin.admin(room, session, type, payload);
    if (payload.localName === 'query' && ns === NS_MUC_OWNER) return admin.owner(room, session, type, payload);
    const moderation = type === 'set' ? moderationRequest(payload) : null;
    if (moderation) {
      await moderate.inOpenRoom(room, session, moderation);
      return null;
    }
    throw new StanzaError('service-unavailable');
  }

  core.on('iq/muc', 'open-rooms', async ({ stanza, to, origin }: RouteContext) => {
    const type = stanza.attrs.type;
    if (type !== 'get' && type !== 'set') return to.local ? (isOpen(to) ? true : undefined) : undefined;
    const session = origin;
    if (!to.local) {
      const query = stanza.getChildren()[0];
      const listing = type === 'get' && session?.user && query?.localName === 'query' && query.attrs.xmlns === NS_DISCO_ITEMS && !query.attrs.node;
      if (!listing) return undefined;
      iqResult(core, stanza, session, await listRooms(ctx, session.user!.appId));
      return true;
    }
    if (!session?.user) return isOpen(to) ? true : undefined;
    const answer = async (work: () => Promise<Element | null>): Promise<void> => {
      try {
        iqResult(core, stanza, session, (await work()) as Element);
      } catch (err) {
        const error = err instanceof StanzaError ? err : new StanzaError('internal-server-error');
        if (!(err instanceof StanzaError)) core.log.error({ err }, 'an open room request failed');
        core.bounce(stanza, error, session);
      }
    };
    if (!isOpen(to)) return moderateDialogRoom(stanza, session, to, answer);
    await ctx.serial(session.user.appId, to.bare, () => answer(() => iq(stanza, session, to)));
    return true;
  });

  /** XEP-0425 in a QuickBlox dialog room; anything else there is the muc module's. */
  async function moderateDialogRoom(stanza: Element, session: C2sSession, to: Jid, answer: (work: () => Promise<Element | null>) => Promise<void>): Promise<true | undefined> {
    const payloads = stanza.getChildren();
    if (stanza.attrs.type !== 'set' || payloads.length !== 1) return undefined;
    let request;
    try {
      request = moderationRequest(payloads[0]!);
    } catch (err) {
      await answer(() => Promise.reject(err));
      return true;
    }
    if (!request) return undefined;
    await answer(async () => {
      const address = parseRoomLocal(to.local);
      const dialog = address?.appId === session.user!.appId ? await deps.chat.findDialog(address.appId, address.dialogId) : null;
      if (!dialog || dialog.type === PRIVATE || !to.isBare) throw new StanzaError('item-not-found', NO_SUCH_ROOM);
      await moderate.inDialogRoom(dialog, to.bare, session, request);
      return null;
    });
    return true;
  }

  const leaveAll = async ({ session }: { session: C2sSession }): Promise<undefined> => {
    await presences.leaveAll(session);
    return undefined;
  };
  core.on('presence/broadcast', 'open-rooms', async ({ stanza, origin }: RouteContext) => {
    if (origin && stanza.attrs.type === 'unavailable') await presences.leaveAll(origin);
    return undefined;
  });
  core.on('session/closed', 'open-rooms', leaveAll);
  core.on('session/migrated', 'open-rooms', leaveAll);

  // The dialog's QuickBlox room: bans, members-only and passwords hold there too, and what it
  // relays reaches the open room's occupants.
  async function docOf(dialog: Dialog): Promise<RoomDoc | null> {
    if (dialog.type !== GROUP) return null;
    const here = ctx.live.byDialog(dialog.id);
    if (here) return here.doc;
    const name = await ctx.nameOfDialog(dialog);
    const doc = name === null ? null : await ctx.store.get(dialog.appId, name);
    return doc?.dialogId === dialog.id ? doc : null; // the name may have been let go and taken by another room since
  }
  deps.muc.bridge({
    async admit(dialog, userId) {
      const doc = await docOf(dialog);
      const refused = doc ? barred(doc, userId) : null;
      if (refused?.condition === 'not-authorized') return new StanzaError('not-authorized', 'This room has a password: join it through its own JID.');
      return refused;
    },
    relayed: messages.fromDialogRoom,
  });

  deps.mam.resolveRooms(async (appId, local, viewerId) => {
    if (parseRoomLocal(local) !== null) return null;
    const room = await ctx.load(appId, local, `${local}@${core.mucDomain}`);
    return room && !barred(room.doc, viewerId, room.doc.config.password) ? room.dialog : null;
  });

  deps.chat.events.on('dialogDeleted', ({ dialog }) => {
    const failed = (err: unknown): void => core.log.error({ err }, 'closing a deleted open room failed');
    const room = ctx.live.byDialog(dialog.id);
    if (room) return void ctx.serial(room.appId, room.bare, () => admin.dialogGone(room)).catch(failed);
    // Deleted over REST on a node that does not hold the room: the nodes that do close it.
    if (!ctx.clustered || dialog.type !== GROUP) return;
    void (async () => {
      const name = await ctx.nameOfDialog(dialog);
      const doc = name === null ? null : await ctx.store.get(dialog.appId, name);
      if (name === null || doc?.dialogId !== dialog.id) return;
      const bare = `${name}@${core.mucDomain}`;
      await ctx.publish({ appId: dialog.appId, bare }, { type: 'destroy' });
      await ctx.store.remove(dialog.appId, name, doc);
    })().catch(failed);
  });

}
