// Open rooms on disk: per application, the room's local part → its document (the group dialog it
// is, configuration, affiliations, subject), kept in the application's key-value data (kv_data,
// both drivers); the reverse dialog id → room name; and per user the rooms they created (bound).
import type { KeyValueStore } from '../../storage/account-data-types.js';

export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast';

export interface RoomConfig {
  title: string;
  description: string;
  persistent: boolean;
  public: boolean;
  membersOnly: boolean;
  moderated: boolean;
  /** Empty: no password. */
  password: string;
  historyLength: number;
  maxUsers: number;
  /** Whether participants (not only moderators) may change the subject. */
  changeSubject: boolean;
}

export interface RoomDoc {
  dialogId: string;
  /** Who created it (counted against their ROOMS_PER_USER). */
  creatorId: number;
  config: RoomConfig;
  /** User id → affiliation; users not listed have none. */
  affiliations: Record<string, Affiliation>;
  subject: string;
  subjectBy: string;
}

const roomKey = (name: string): string => `muc-room:${name}`;
const dialogKey = (dialogId: string): string => `muc-dialog:${dialogId}`;
const ownedPrefix = (appId: number): string => `muc-created:${appId}:`;

export class OpenRoomStore {
  constructor(private readonly kv: KeyValueStore) {}

  async get(appId: number, name: string): Promise<RoomDoc | null> {
    const raw = await this.kv.get('app', appId, roomKey(name));
    return raw === null ? null : (JSON.parse(raw) as RoomDoc);
  }

  /** The room name a dialog is the open room of, if any. */
  nameOf(appId: number, dialogId: string): Promise<string | null> {
    return this.kv.get('app', appId, dialogKey(dialogId));
  }

  async create(appId: number, name: string, doc: RoomDoc): Promise<void> {
    await this.kv.set('user', doc.creatorId, `${ownedPrefix(appId)}${name}`, '1');
    await this.kv.set('app', appId, dialogKey(doc.dialogId), name);
    await this.put(appId, name, doc);
  }

  put(appId: number, name: string, doc: RoomDoc): Promise<void> {
    return this.kv.set('app', appId, roomKey(name), JSON.stringify(doc));
  }

  async remove(appId: number, name: string, doc: RoomDoc): Promise<void> {
    await this.kv.set('app', appId, roomKey(name), null);
    await this.kv.set('app', appId, dialogKey(doc.dialogId), null);
    await this.kv.set('user', doc.creatorId, `${ownedPrefix(appId)}${name}`, null);
  }

  async createdBy(appId: number, userId: number): Promise<number> {
    return (await this.kv.keys('user', userId, ownedPrefix(appId))).length;
  }

  async names(appId: number): Promise<string[]> {
    const prefix = roomKey('');
    return (await this.kv.keys('app', appId, prefix)).map((k) => k.slice(prefix.length));
  }
}
