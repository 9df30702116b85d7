// Offline messages (XEP-0160), kept per user until delivered.
export interface OfflineMessage {
  id: number;
  userId: number;
  stanza: string; // serialized XML of the stanza as it will be delivered
  storedAt: Date;
}

/** Who left an offline message, and how many of the user's stored messages may be theirs. */
export interface OfflineSender {
  id: string;
  limit: number;
}

export interface OfflineStore {
  /** Stores the stanza for a user; returns false (and stores nothing) when the user already has `limit`, or `sender.limit` from that sender. */
  push(userId: number, stanza: string, limit: number, sender?: OfflineSender): Promise<boolean>;
  /** Oldest first. */
  list(userId: number): Promise<OfflineMessage[]>;
  remove(ids: number[]): Promise<void>;
  count(userId: number): Promise<number>;
}
