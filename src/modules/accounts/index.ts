// Account deletion reaching XMPP: the user's live sessions on this node end with `not-authorized`
// (stream management keeps nothing of them for resumption or redelivery), and stanzas to the
// account are refused from then on. Another node learns of it through `removeLocal`.
import type { ModuleApi } from '../../core/api.js';
import { StreamError } from '../../xmpp/errors.js';
import { userLocal, type UserAddress } from '../../xmpp/jid.js';

export interface AccountRemoval {
  /** Ends what this node holds of a deleted account. */
  removeLocal(user: UserAddress): Promise<void>;
}

export function accountsModule(core: ModuleApi): AccountRemoval {
  core.on('account/deleted', 'sessions', ({ bare }) => {
    for (const session of core.sessions.resources(bare)) session.close(new StreamError('not-authorized', 'the account was deleted'));
  });
  return {
    async removeLocal(user) {
      core.forgetUser(user);
      await core.run('account/deleted', { bare: `${userLocal(user)}@${core.domain}`, user });
    },
  };
}
