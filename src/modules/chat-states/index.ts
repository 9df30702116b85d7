// Chat state notifications (XEP-0085) in 1-1 chat: relayed to the recipient's available resources
// by the message module like any message, and never stored: a standalone chat state (no body) that
// found no available resource is dropped here, before offline storage sees it. History ignores
// them as well (qb-history stores messages with a body or attachments only when they carry a state).
// Group-chat states are the MUC module's.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { Element } from '../../xml/element.js';
import { NS_CHATSTATES } from '../../xmpp/ns.js';

const STATES = new Set(['active', 'composing', 'paused', 'inactive', 'gone']);

export function isStandaloneChatState(stanza: Element): boolean {
  return !stanza.getChild('body') && stanza.getChildren().some((c) => STATES.has(c.localName) && c.namespace() === NS_CHATSTATES);
}

export function chatStatesModule(core: ModuleApi): void {
  core.addDiscoFeature(NS_CHATSTATES);
  core.on('message/bare', 'not-kept', ({ stanza }: RouteContext) => {
    const type = stanza.attrs.type ?? 'normal';
    if ((type === 'chat' || type === 'normal') && isStandaloneChatState(stanza)) return true;
    return undefined;
  });
}
