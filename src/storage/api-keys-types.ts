// API keys (`Authorization: ApiKey <key>`): permanent application credentials for servers and bots.
// Only a digest of each key is stored; the key itself is shown once, when it is made.

export interface ApiKey {
  id: number;
  appId: number;
  createdAt: Date;
  /** null while the key works. */
  revokedAt: Date | null;
}

export interface ApiKeyStore {
  createKey(appId: number, keyHash: string, at: Date): Promise<ApiKey>;
  /** The live (not revoked) key with this digest. */
  findLiveKey(keyHash: string): Promise<ApiKey | null>;
  listKeys(appId: number): Promise<ApiKey[]>;
  /** False when the application has no such live key. */
  revokeKey(appId: number, id: number, at: Date): Promise<boolean>;
}
