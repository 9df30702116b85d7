// QuickBlox system notifications (stanza reference "System messages"): `type="headline"` messages
// with `<extraParams><moduleIdentifier>SystemNotifications</moduleIdentifier>…`, routed 1-1 to the
// user's available resources, never stored, never kept for offline users. A headline to a room is
// refused (QuickBlox: "You can send system messages directly to user only"). Other headline
// signalling (WebRTCVideoChat …) takes the same path untouched.
//
// The QuickBlox SDK throws on a headline without extraParams, so no headline leaves the server
// without one: an outgoing filter adds an empty `<extraParams/>` where it is missing.
//
// REST `system=1` (a private dialog only; not stored) is delivered here as such a headline, id = _id.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import type { MessageEvent } from '../../chat/events.js';
import { PRIVATE } from '../../chat/access.js';
import type { Element } from '../../xml/element.js';
import { xml } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { StanzaError } from '../../xmpp/errors.js';
import { userLocal } from '../../xmpp/jid.js';
import { EXTRA_PARAMS, compact, getExtraParams, systemNotificationPayload } from '../../qb/index.js';

const isHeadline = (stanza: Element): boolean => stanza.name === 'message' && stanza.attrs.type === 'headline';

export function qbSystemMessagesModule(core: ModuleApi, chat: ChatService): void {
  // Whitespace between elements would crash the Node SDK: compact what clients send.
  const onHeadline = ({ stanza, origin }: RouteContext): undefined => {
    if (origin && isHeadline(stanza)) compact(stanza);
    return undefined;
  };
  core.on('message/outbound', 'system-messages', onHeadline);

  // Headlines are for whoever is online now; nothing is kept.
  core.on('message/bare', 'not-kept', ({ stanza }: RouteContext) => (isHeadline(stanza) ? true : undefined));

  core.on('message/muc', 'system-messages', ({ stanza, origin }: RouteContext) => {
    if (!isHeadline(stanza)) return undefined;
    core.bounce(stanza, new StanzaError('not-acceptable', 'system messages can be sent to users only, not to rooms'), origin);
    return true;
  });

  core.addOutgoingFilter((_session: C2sSession, el: Element) => {
    if (!isHeadline(el) || getExtraParams(el)) return el;
    const copy = el.clone();
    copy.append(xml(EXTRA_PARAMS, { xmlns: NS_CLIENT }));
    return copy;
  });

  chat.events.on('message', async (event: MessageEvent) => {
    if (event.origin !== 'rest' || !event.system || event.dialog.type !== PRIVATE) return;
    const { record } = event;
    if (!record.recipientId) return;
    await core.route(
      xml(
        'message',
        {
          xmlns: NS_CLIENT,
          from: `${userLocal({ userId: record.senderId, appId: record.appId })}@${core.domain}`,
          to: `${userLocal({ userId: record.recipientId, appId: record.appId })}@${core.domain}`,
          type: 'headline',
          id: record.id,
        },
        ...systemNotificationPayload(record.body, record.customParams, record.attachments),
      ),
    );
  });
}
