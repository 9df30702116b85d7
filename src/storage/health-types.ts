// What the store tells the operator: is the database answering, how big is it, how much waits offline.
export interface StoreHealth {
  /** Resolves when the database answers a trivial query; rejects with the driver's error otherwise. */
  ping(): Promise<void>;
  /** Bytes the database takes: SQLite's file and its WAL, or pg_database_size. */
  sizeBytes(): Promise<number>;
  /** Messages in offline storage, every user together. */
  offlineMessages(): Promise<number>;
}
