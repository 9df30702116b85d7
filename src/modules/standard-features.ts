// The standard XMPP features (issue 18) plugged in as one group, so the composition root gains
// one line: each is its own module folder over data QuickBlox apps share.
import type { Core } from '../core/core.js';
import type { Config } from '../config/types.js';
import type { ChatService } from '../chat/service.js';
import type { Store } from '../storage/types.js';
import type { PrivacyModule } from './privacy/index.js';
import { mamModule, type MamModule } from './mam/index.js';
import { ArchiveSettings } from './mam/settings.js';
import { blockingModule } from './blocking/index.js';

export interface StandardFeatureDeps {
  config: Config;
  store: Store;
  chat: ChatService;
  privacy: PrivacyModule;
}

export interface StandardFeatures {
  mam: MamModule;
}

export function standardFeatures(core: Core, deps: StandardFeatureDeps): StandardFeatures {
  const { store, chat } = deps;
  const mam = mamModule(core, chat, store.chat, new ArchiveSettings(store.keyValue));
  blockingModule(core, store.privacy, deps.privacy);
  return { mam };
}
