// Users an external identity provider vouches for: the provider's user id (`uid`) linked to the
// Parley user made for it, per application.

export interface IdentityLinkStore {
  /** The user linked to this uid in the application, if any. */
  findLinkedUser(appId: number, uid: string): Promise<number | null>;
  /** Links (or relinks) a uid to a user. */
  link(appId: number, uid: string, userId: number): Promise<void>;
}
