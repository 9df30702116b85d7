// Account changes that the rest of the server must act on, made in one place for REST, the CLI and
// the console: deleting a user ends its REST sessions at once and announces `userDeleted` (the XMPP
// side ends its live sessions); a password change ends the user's other REST sessions (tokens are
// XMPP passwords too) and announces `passwordChanged` (the XMPP side ends the user's streams on every
// node but `keepStream`, the stream that made the change, if any).
import type { Store } from '../storage/types.js';
import { Announcer } from '../util/announcer.js';

export interface AccountRef {
  appId: number;
  userId: number;
}

export interface AccountEventMap {
  userDeleted: AccountRef;
  passwordChanged: PasswordChange;
}

export interface PasswordChange extends AccountRef {
  /** The id of the XMPP stream (on this node) that made the change, which stays open. */
  keepStream?: string;
}

export class AccountService {
  readonly events: Announcer<AccountEventMap>;

  constructor(
    private readonly store: Pick<Store, 'accounts' | 'sessions'>,
    onListenerError: (err: unknown, event: keyof AccountEventMap) => void,
  ) {
    this.events = new Announcer(onListenerError);
  }

  /** Deletes the user (its offline queue, roster and privacy lists go with it); false when there was none. */
  async deleteUser(appId: number, userId: number): Promise<boolean> {
    await this.store.sessions.deleteUserSessions(appId, userId);
    const deleted = await this.store.accounts.deleteUser(appId, userId);
    if (deleted) this.events.emit('userDeleted', { appId, userId });
    return deleted;
  }

  /**
   * Sets a new password and ends every REST session of the user but `keep.token` (the REST session
   * that asked, if any); the announcement names `keep.stream` (the XMPP stream that asked, if any).
   */
  async changePassword(appId: number, userId: number, password: string, keep: { token?: string; stream?: string } = {}): Promise<void> {
    await this.store.accounts.setPassword(appId, userId, password);
    await this.store.sessions.deleteUserSessions(appId, userId, keep.token);
    this.events.emit('passwordChanged', keep.stream === undefined ? { appId, userId } : { appId, userId, keepStream: keep.stream });
  }
}
