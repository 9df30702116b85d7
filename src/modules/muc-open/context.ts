// What the parts of the open rooms share: the services, the rooms live here, and loading, saving
// and serializing a room (one stanza of a room at a time on this node, so that a join that creates
// the room, a nick taken twice or two configuration changes cannot interleave), and what reaches
// the room's occupants on every node (the RoomDirectory of the dialog rooms, see cluster.ts).
import type { ModuleApi } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import type { RoomDirectory, RoomEvent } from '../../cluster/rooms.js';
import type { ChatStore, Dialog } from '../../storage/types.js';
import type { Element } from '../../xml/element.js';
import { addressed, type MucModule } from '../muc/index.js';
import { LiveRooms, presenceOf, resourcesOf, type OpenOccupant, type OpenRoom, type PresenceOptions } from './live.js';
import type { OpenRoomStore } from './store.js';

/** The room's name in the directory: open room names are per application. */
export const directoryKey = (appId: number, bare: string): string => `open:${appId}:${bare}`;

export function parseDirectoryKey(key: string): { appId: number; bare: string } | null {
  const m = /^open:([0-9]{1,16}):(.+)$/.exec(key);
  return m ? { appId: Number(m[1]), bare: m[2]! } : null;
}

/** How many dialog ids → open room names (or "none") are remembered. */
const NAMES_CACHED = 10_000;
/** A dialog older than this is not being made an open room: "not an open room" is remembered for it. */
const SETTLED_MS = 60_000;

export interface OpenRoomsContext {
  core: ModuleApi;
  chat: ChatService;
  history: ChatStore;
  store: OpenRoomStore;
  live: LiveRooms;
  muc: MucModule;
  directory: RoomDirectory;
  /** Whether other nodes may hold the same rooms (the directory is a cluster's). */
  clustered: boolean;
  /** The room live here, else from disk (null: no such room, or its dialog is gone). */
  load(appId: number, name: string, bare: string): Promise<OpenRoom | null>;
  /** Stores the room's document; the other nodes holding the room read it again. */
  save(room: OpenRoom): Promise<void>;
  /** Runs `fn` after every earlier call for the same room of the same application. */
  serial<T>(appId: number, bare: string, fn: () => Promise<T>): Promise<T>;
  userJid(appId: number, userId: number): string;
  /** Adds the user to the dialog's occupants (so it lists the dialog and reads its history over REST), or removes them. */
  setOccupant(room: OpenRoom, userId: number, occupant: boolean): Promise<void>;
  /** A message from the room to every joined resource, on every node. */
  broadcast(room: { appId: number; bare: string }, message: Element): Promise<void>;
  /**
   * An occupant's presence to every joined resource on every node (its own with status 110), with
   * the change it announces: a new role, or the occupant removed (its resources leave).
   */
  announce(room: OpenRoom, subject: OpenOccupant, opts: PresenceOptions, change: { role?: string; removed?: boolean }): Promise<void>;
  /** The open room a dialog is, by name (remembered: asked on every QuickBlox join of a group dialog). */
  nameOfDialog(dialog: Dialog): Promise<string | null>;
  /** Sends an event about the room to every node holding it, this one included. */
  publish(room: { appId: number; bare: string }, event: RoomEvent): Promise<void>;
}

export function openRoomsContext(core: ModuleApi, chat: ChatService, history: ChatStore, store: OpenRoomStore, muc: MucModule): OpenRoomsContext {
  const live = new LiveRooms();
  const queues = new Map<string, Promise<unknown>>();
  const directory = muc.directory;
  const clustered = directory.enabled;
  const names = new Map<string, string | null>();
  const publish = (room: { appId: number; bare: string }, event: RoomEvent): Promise<void> => directory.publish(directoryKey(room.appId, room.bare), event);
  return {
    core, chat, history, store, live, muc, directory, clustered, publish,
    async load(appId, name, bare) {
      const here = live.get(appId, bare);
      if (here) return here;
      const doc = await store.get(appId, name);
      if (!doc) return null;
      const dialog = await chat.findDialog(appId, doc.dialogId);
      if (!dialog) {
        await store.remove(appId, name, doc); // deleted over REST while nobody was in the room
        return null;
      }
      return { appId, name, bare, doc, dialog, byNick: new Map(), byUser: new Map(), joining: 0 };
    },
    async save(room) {
      await store.put(room.appId, room.name, room.doc);
      if (clustered) await publish(room, { type: 'changed' });
    },
    serial(appId, bare, fn) {
      const key = LiveRooms.key(appId, bare);
      const previous = queues.get(key) ?? Promise.resolve();
      const run = previous.then(fn, fn);
      const tail = run.catch(() => undefined);
      queues.set(key, tail);
      void tail.then(() => {
        if (queues.get(key) === tail) queues.delete(key);
      });
      return run;
    },
    userJid: (appId, userId) => `${userId}-${appId}@${core.domain}`,
    async setOccupant(room, userId, occupant) {
      const dialog = room.dialog;
      if (chat.isOccupant(dialog, userId) === occupant) return;
      // Changed as the dialog's owner, or any occupant when the owner left it over REST (a group dialog takes updates from its occupants).
      const actor = chat.isOccupant(dialog, dialog.ownerId) ? dialog.ownerId : dialog.occupantIds.find((id) => id !== userId);
      if (actor === undefined) return;
      const change = { occupants_ids: [userId] };
      await chat.updateDialog({ appId: room.appId, userId: actor }, dialog.id, occupant ? { push_all: change } : { pull_all: change });
      room.dialog = (await chat.findDialog(room.appId, dialog.id)) ?? dialog;
      if (clustered) await publish(room, { type: 'changed' });
    },
    async broadcast(room, message) {
      if (clustered) return publish(room, { type: 'message', stanza: message.toString() });
      const here = live.get(room.appId, room.bare);
      if (here) for (const [, jid, session] of resourcesOf(here)) session.send(addressed(message, jid));
    },
    async announce(room, subject, opts, change) {
      const presence = presenceOf(room, subject, '', opts);
      delete presence.attrs.to;
      await publish(room, { type: 'occupant', userId: subject.userId, presence: presence.toString(), ...change });
    },
    async nameOfDialog(dialog) {
      const known = names.get(dialog.id);
      if (known !== undefined) return known;
      const name = await store.nameOf(dialog.appId, dialog.id);
      const settled = Date.now() - dialog.createdAt.getTime() > SETTLED_MS;
      if (name !== null || settled) {
        if (names.size >= NAMES_CACHED) names.delete(names.keys().next().value!);
        names.set(dialog.id, name);
      }
      return name;
    },
  };
}
