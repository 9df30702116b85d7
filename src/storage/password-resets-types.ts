// One-time password reset links: only a digest of each link's token is stored; a token works
// once and until it expires, and goes with its user.

export interface PasswordReset {
  appId: number;
  userId: number;
}

export interface PasswordResetStore {
  createReset(input: { tokenHash: string; appId: number; userId: number; expiresAt: Date }): Promise<void>;
  /** The reset a live (unused, unexpired) token opens, without using it. */
  findLiveReset(tokenHash: string, now: Date): Promise<PasswordReset | null>;
  /** Uses the token: atomically marks it used and returns its reset; null when it was not live. */
  consumeReset(tokenHash: string, now: Date): Promise<PasswordReset | null>;
}
