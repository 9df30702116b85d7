// The standard XMPP features (issue 18) plugged in as one group, so the composition root gains
// one line: each is its own module folder over data QuickBlox apps share.
import type { ModuleApi as Core } from '../core/api.js';
import type { Config } from '../config/types.js';
import type { ChatService } from '../chat/service.js';
import type { Store } from '../storage/types.js';
import type { AccountService } from '../accounts/service.js';
import type { PrivacyModule } from './privacy/index.js';
import type { MucModule } from './muc/index.js';
import { openRoomsModule } from './muc-open/index.js';
import { ArchiveSettings, mamModule, type MamModule } from './mam/index.js';
import { blockingModule } from './blocking/index.js';
import { httpUploadModule, uploadBase } from './http-upload/index.js';
import { vcardModule } from './vcard/index.js';
import { privateStorageModule } from './private-storage/index.js';
import { versionModule } from './version/index.js';
import { pepModule } from './pep/index.js';
import { adhocModule } from './adhoc/index.js';
import { registerModule } from './register/index.js';

export interface StandardFeatureDeps {
  config: Config;
  store: Store;
  chat: ChatService;
  privacy: PrivacyModule;
  muc: MucModule;
  /** Account changes: an in-band password change goes through it like REST's. */
  accounts: AccountService;
}

export interface StandardFeatures {
  mam: MamModule;
}

export function standardFeatures(core: Core, deps: StandardFeatureDeps): StandardFeatures {
  const { store, chat } = deps;
  const mam = mamModule(core, chat, store.chat, new ArchiveSettings(store.keyValue));
  blockingModule(core, store.privacy, deps.privacy);
  httpUploadModule(core, deps.config, store.blobs, () => uploadBase(deps.config));
  vcardModule(core, store.keyValue);
  privateStorageModule(core, store.keyValue);
  versionModule(core);
  pepModule(core, store.pep, store.roster);
  adhocModule(core, deps.config.operator_jids);
  openRoomsModule(core, { chat, history: store.chat, keyValue: store.keyValue, muc: deps.muc, mam });
  if (deps.config.registration_app_id > 0) registerModule(core, store.accounts, deps.accounts, deps.config.registration_app_id);
  return { mam };
}
