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
import type { Core, RouteContext } from '../../core/core.js';
import type { C2sSession } from '../../core/session.js';
import type { ChatService } from '../../chat/service.js';
import type { MessageEvent } from '../../chat/events.js';
import { PRIVATE } from '../../chat/access.js';
import type { Element } from '../../xml/element.js';
import { xml } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { StanzaError } from '../../xmpp/errors.js';
import { userLocal } from '../../xmpp/jid.js';
import { EXTRA_PARAMS, compact, getExtraParams, systemNotificationPayload } from '../qb-extra-params/index.js';

/** Above the MUC module's own message/muc handlers. */
export const ROOM_HEADLINE_PRIORITY = 100;
/** After delivery (message module, 0), before offline storage (-10). */
export const HEADLINE_DROP_PRIORITY = -5;

const isHeadline = (stanza: Element): boolean => stanza.name === 'message' && stanza.attrs.type === 'headline';

export function qbSystemMessagesModule(core: Core, chat: ChatService): void {
  // Whitespace between elements would crash the Node SDK: compact what clients send.
  const onHeadline = ({ stanza, origin }: RouteContext): undefined => {
    if (origin && isHeadline(stanza)) compact(stanza);
    return undefined;
  };
  core.hooks.on('message/bare', onHeadline, 100);
  core.hooks.on('message/full', onHeadline, 100);

  // Headlines are for whoever is online now; nothing is kept.
  core.hooks.on('message/bare', ({ stanza }: RouteContext) => (isHeadline(stanza) ? true : undefined), HEADLINE_DROP_PRIORITY);

  core.hooks.on(
    'message/muc',
    ({ stanza, origin }: RouteContext) => {
      if (!isHeadline(stanza)) return undefined;
      core.bounce(stanza, new StanzaError('not-acceptable', 'system messages can be sent to users only, not to rooms'), origin);
      return true;
    },
    ROOM_HEADLINE_PRIORITY,
  );

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
