// Account changes that the rest of the server must act on, made in one place for REST, the CLI and
// the console: deleting a user ends its REST sessions at once and announces `userDeleted` (the XMPP
// side ends its live sessions); a password change ends the user's other REST sessions (tokens are
// XMPP passwords too) and announces `passwordChanged`.
import type { Store } from '../storage/types.js';
import { Announcer } from '../util/announcer.js';

export interface AccountRef {
  appId: number;
  userId: number;
}

export interface AccountEventMap {
  userDeleted: AccountRef;
  passwordChanged: AccountRef;
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

  /** Sets a new password and ends every REST session of the user but `keepToken` (the one that asked, if any). */
  async changePassword(appId: number, userId: number, password: string, keepToken?: string): Promise<void> {
    await this.store.accounts.setPassword(appId, userId, password);
    await this.store.sessions.deleteUserSessions(appId, userId, keepToken);
    this.events.emit('passwordChanged', { appId, userId });
  }
}
