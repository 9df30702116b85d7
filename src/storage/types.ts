// Store interfaces, one file per store; each feature owns the interface it needs and every driver
// (sqlite/, postgres/) implements all of them. Every method is async so that a networked driver
// fits the same shape. This file assembles them into the one Store a driver opens.
import type { AccountStore } from './account-types.js';
import type { ApiKeyStore } from './api-keys-types.js';
import type { AppSettingsStore } from './app-settings-types.js';
import type { CustomObjectStore } from './custom-objects-types.js';
import type { IdentityLinkStore } from './identity-links-types.js';
import type { PasswordResetStore } from './password-resets-types.js';
import type { ReactionStore } from './reactions-types.js';
import type { BlobStore } from './blob-types.js';
import type { ChatStore } from './chat-types.js';
import type { ReadTaskPool } from './read-tasks.js';
import type { OfflineStore } from './offline-types.js';
import type { PrivacyStore } from './privacy-types.js';
import type { PushStore } from './push-types.js';
import type { RosterStore } from './roster-types.js';
import type { SessionStore } from './session-types.js';
import type { StoreHealth } from './health-types.js';
import type { OperatorStore } from './admin-types.js';

export * from './account-types.js';
export * from './blob-types.js';
export * from './chat-types.js';
export type { ReadTaskHost, ReadTaskPool, ReadTasksFactory } from './read-tasks.js';
export * from './offline-types.js';
export * from './privacy-types.js';
export * from './push-types.js';
export * from './roster-types.js';
export * from './session-types.js';
export * from './health-types.js';
export * from './session-revocations-types.js';
export * from './admin-types.js';
export type { TokenScram } from './token-secrets.js';

export interface Store {
  readonly accounts: AccountStore;
  readonly sessions: SessionStore;
  readonly offline: OfflineStore;
  readonly roster: RosterStore;
  readonly privacy: PrivacyStore;
  readonly blobs: BlobStore;
  readonly chat: ChatStore;
  readonly health: StoreHealth;
  readonly operators: OperatorStore;
  readonly customObjects: CustomObjectStore;
  readonly appSettings: AppSettingsStore;
  readonly apiKeys: ApiKeyStore;
  readonly reactions: ReactionStore;
  readonly passwordResets: PasswordResetStore;
  readonly identityLinks: IdentityLinkStore;
  readonly push: PushStore;
  readonly revocations: import('./session-revocations-types.js').SessionRevocationStore;
  readonly keyValue: import('./account-data-types.js').KeyValueStore;
  readonly pep: import('./account-data-types.js').PepStore;
  /** Threads that answer read tasks off the event loop, when the store has them (see read-tasks.ts). */
  readonly readTasks?: ReadTaskPool | null;
  /** Flushes and closes the underlying database. */
  close(): Promise<void>;
}
