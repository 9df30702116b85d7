// What XMPP SASL accepts as a user's secret: the account password, or a live REST user session
// token of that same user and application (QuickBlox SDKs log in to chat with the token). Tokens
// are not stored: PLAIN finds the session by the token's digest, SCRAM checks the keys derived
// from the token when it became a user session (account-secrets.ts `tokenScram`), so no key derivation runs per attempt.
import type { Authenticator } from './modules/sasl/index.js';
import { decodeScram } from './storage/account-secrets.js';
import type { ScramCredential, Store } from './storage/types.js';

const TOKEN = /^[0-9a-f]{40}$/;
/** SCRAM checks the proof against this many of the user's newest live tokens. */
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
      const tokens: ScramCredential[] = [];
      for (const session of sessions) {
        if (!session.scram) continue;
        const credential = decodeScram(hash === 'sha1' ? session.scram.sha1 : session.scram.sha256);
        // Keys made with an older salt (the password changed since) cannot match what the client is sent.
        if (credential.salt.equals(stored.salt) && credential.iterations === stored.iterations) tokens.push(credential);
      }
      return [stored, ...tokens];
    },
  };
}
