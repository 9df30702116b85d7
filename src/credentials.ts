// What XMPP SASL accepts as a user's secret: the account password, or a live REST user session
// token of that same user and application (QuickBlox SDKs log in to chat with the token).
import type { Authenticator } from './modules/sasl/index.js';
import type { Store } from './storage/types.js';
import { deriveScramCredential } from './util/password.js';

const TOKEN = /^[0-9a-f]{40}$/;
/** SCRAM derives one credential per candidate token; a user rarely has more live sessions than this. */
const SCRAM_TOKEN_CANDIDATES = 5;

export function storeAuthenticator(store: Store, now: () => Date = () => new Date()): Authenticator {
  const tokenMatches = async (appId: number, userId: number, token: string): Promise<boolean> => {
    if (!TOKEN.test(token)) return false;
    const session = await store.sessions.getSession(token);
    return !!session && session.appId === appId && session.userId === userId && session.expiresAt > now();
  };
  return {
    verifyPlain: async (user, password) =>
      (await tokenMatches(user.appId, user.userId, password)) || store.accounts.verifyPassword(user.appId, user.userId, password),
    scramCredentials: async (user, hash) => {
      const stored = await store.accounts.getScramCredential(user.appId, user.userId, hash);
      if (!stored) return null;
      const sessions = await store.sessions.userSessions(user.appId, user.userId, now(), SCRAM_TOKEN_CANDIDATES);
      return [stored, ...sessions.map((s) => deriveScramCredential(s.token, hash, stored.salt, stored.iterations))];
    },
  };
}
