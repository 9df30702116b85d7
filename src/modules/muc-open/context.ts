// What the parts of the open rooms share: the services, the rooms live here, and loading, saving
// and serializing a room (one stanza of a room at a time on this node, so that a join that creates
// the room, a nick taken twice or two configuration changes cannot interleave).
import type { ModuleApi } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import type { ChatStore } from '../../storage/types.js';
import type { MucModule } from '../muc/index.js';
import { LiveRooms, type OpenRoom } from './live.js';
import type { OpenRoomStore } from './store.js';

export interface OpenRoomsContext {
  core: ModuleApi;
  chat: ChatService;
  history: ChatStore;
  store: OpenRoomStore;
  live: LiveRooms;
  muc: MucModule;
  /** The room live here, else from disk (null: no such room, or its dialog is gone). */
  load(appId: number, name: string, bare: string): Promise<OpenRoom | null>;
  save(room: OpenRoom): Promise<void>;
  /** Runs `fn` after every earlier call for the same room of the same application. */
  serial<T>(appId: number, bare: string, fn: () => Promise<T>): Promise<T>;
  userJid(appId: number, userId: number): string;
  /** Adds the user to the dialog's occupants (so it lists the dialog and reads its history over REST), or removes them. */
  setOccupant(room: OpenRoom, userId: number, occupant: boolean): Promise<void>;
}

export function openRoomsContext(core: ModuleApi, chat: ChatService, history: ChatStore, store: OpenRoomStore, muc: MucModule): OpenRoomsContext {
  const live = new LiveRooms();
  const queues = new Map<string, Promise<unknown>>();
  return {
    core, chat, history, store, live, muc,
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
      return { appId, name, bare, doc, dialog, byNick: new Map(), byUser: new Map() };
    },
    save(room) {
      return store.put(room.appId, room.name, room.doc);
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
    },
  };
}
