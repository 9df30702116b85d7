// The catalogue of every event modules plug into: its payload, and the order its handlers run in.
// Read it top to bottom to follow a stanza. A handler registers for an event *and a slot* of that
// event (`api.on('message/outbound', 'privacy', fn)`); handlers run slot by slot as listed here, and
// within a slot in registration order. The first handler that returns something other than
// undefined ends the run (the stanza is handled); returning undefined passes it on.
//
// Routing a stanza from a client to a user has two phases:
//   outbound  once per stanza, on the sender's node: policy (privacy), storage (history, markers),
//             copies (carbons). A handler that throws stops the stanza with an error: fail closed.
//   delivery  once per recipient address: local resources, other nodes, offline storage, and
//             "not reachable" (push). Another node's stanzas enter here directly (`relayed`).
//             A handler that throws is logged and the next slot takes the stanza (a failed
//             cluster lookup still leaves offline storage), so nothing is dropped silently.
import type { Element } from '../xml/element.js';
import type { Jid, UserAddress } from '../xmpp/jid.js';
import type { RosterItem } from '../storage/roster-types.js';
import type { C2sSession } from './session.js';

/** What routing events receive. */
export interface RouteContext {
  stanza: Element;
  from: Jid;
  to: Jid;
  /** The sending session, when a client on this node sent the stanza. */
  origin: C2sSession | null;
  /** Arrived from another cluster node: deliver here only, never publish again. */
  relayed?: boolean;
  /** Routed again by stream management after its session ended unacknowledged (it must not wait for itself). */
  redelivery?: boolean;
}

export interface SessionEvent {
  session: C2sSession;
}

export interface ElementEvent {
  session: C2sSession;
  element: Element;
}

export interface DiscoItemsEvent {
  /** The disco#items result being built: handlers append their items. */
  query: Element;
  from: Jid;
  to: Jid;
}

/** A disco#info result being built (handlers append identities, features, forms). */
export interface DiscoInfoEvent {
  query: Element;
  from: Jid;
  to: Jid;
}

/** A query on a node: the handler owning `node` fills `query` and returns true. */
export interface DiscoNodeEvent extends DiscoInfoEvent {
  node: string;
}

export interface AccountEvent {
  /** The account's bare JID. */
  bare: string;
  user: UserAddress;
}

export interface RosterRemovedEvent {
  owner: Jid;
  item: RosterItem;
}

/** What happens when a handler throws: `stop` ends the run with the error (the router refuses the stanza: fail closed), `isolate` logs it and goes on. */
export type OnError = 'stop' | 'isolate';

export const EVENTS = {
  // --- routing to a user: outbound phase, once per stanza on the sender's node ---
  'message/outbound': { slots: ['metrics', 'privacy', 'system-messages', 'chat-markers', 'archive-all', 'history', 'archive-ids', 'carbons'], onError: 'stop' },
  'presence/outbound': { slots: ['privacy'], onError: 'stop' },

  // --- routing to a user: delivery phase, per recipient address ---
  'message/bare': {
    slots: ['settling', 'cluster-copy', 'local', 'cluster', 'unreachable', 'not-kept', 'offline'],
    onError: 'isolate',
  },
  // Unless a slot takes it, a message to a full JID whose resource is gone falls back to message/bare.
  'message/full': { slots: ['cluster', 'local'], onError: 'isolate' },
  'presence/bare': { slots: ['subscriptions', 'cluster', 'local'], onError: 'isolate' },
  'presence/full': { slots: ['subscriptions', 'cluster', 'local'], onError: 'isolate' },
  // Unless a slot takes it, an IQ to a full JID goes to the local session holding it.
  'iq/full': { slots: ['cluster'], onError: 'isolate' },

  // --- stanzas addressed to the server, to rooms, or with no `to` ---
  'message/host': { slots: ['handler'], onError: 'stop' },
  'presence/host': { slots: ['handler'], onError: 'stop' },
  'message/muc': { slots: ['metrics', 'system-messages', 'archive-all', 'open-rooms', 'rooms'], onError: 'stop' },
  'presence/muc': { slots: ['open-rooms', 'rooms'], onError: 'stop' },
  'iq/muc': { slots: ['archive', 'open-rooms', 'rooms'], onError: 'stop' },
  'presence/broadcast': { slots: ['vcard-avatar', 'pep-caps', 'stream-management', 'offline', 'rooms', 'open-rooms', 'last-activity', 'cluster', 'presence'], onError: 'isolate' },
  'iq/response': { slots: ['pep-caps', 'handler'], onError: 'isolate' },

  // --- sessions ---
  'c2s/element': { slots: ['stream-management', 'starttls', 'register'], onError: 'isolate' },
  'session/bound': { slots: ['privacy', 'cluster'], onError: 'isolate' },
  'presence/initial': { slots: ['stream-management', 'offline'], onError: 'isolate' },
  'session/closed': { slots: ['stream-management', 'rooms', 'open-rooms', 'last-activity', 'cluster', 'presence', 'offline'], onError: 'isolate' },
  'session/migrated': { slots: ['rooms', 'open-rooms'], onError: 'isolate' },
  // A deleted account: modules drop what they hold for it, then its sessions end.
  'account/deleted': { slots: ['stream-management', 'sessions'], onError: 'isolate' },

  // --- between modules ---
  'disco/items': { slots: ['rooms'], onError: 'isolate' },
  // Standard features add to the server's and accounts' disco#info and answer nodes (ad-hoc commands).
  'disco/server-info': { slots: ['upload'], onError: 'isolate' },
  'disco/account-info': { slots: ['archive', 'pep'], onError: 'isolate' },
  'disco/node-info': { slots: ['commands'], onError: 'isolate' },
  'disco/node-items': { slots: ['commands'], onError: 'isolate' },
  'roster/removed': { slots: ['subscriptions'], onError: 'isolate' },
} as const satisfies Record<string, { slots: readonly string[]; onError: OnError }>;

export interface EventPayloads {
  'message/outbound': RouteContext;
  'presence/outbound': RouteContext;
  'message/bare': RouteContext;
  'message/full': RouteContext;
  'presence/bare': RouteContext;
  'presence/full': RouteContext;
  'iq/full': RouteContext;
  'message/host': RouteContext;
  'presence/host': RouteContext;
  'message/muc': RouteContext;
  'presence/muc': RouteContext;
  'iq/muc': RouteContext;
  'presence/broadcast': RouteContext;
  'iq/response': RouteContext;
  'c2s/element': ElementEvent;
  'session/bound': SessionEvent;
  'presence/initial': SessionEvent;
  'session/closed': SessionEvent;
  'session/migrated': SessionEvent;
  'account/deleted': AccountEvent;
  'disco/items': DiscoItemsEvent;
  'disco/server-info': DiscoInfoEvent;
  'disco/account-info': DiscoInfoEvent;
  'disco/node-info': DiscoNodeEvent;
  'disco/node-items': DiscoNodeEvent;
  'roster/removed': RosterRemovedEvent;
}

export type EventName = keyof typeof EVENTS;
export type SlotOf<E extends EventName> = (typeof EVENTS)[E]['slots'][number];
/** A handler returns undefined to pass the event on, anything else to end the run. */
export type EventHandler<E extends EventName> = (payload: EventPayloads[E]) => unknown;

/** Routing events by stanza kind and address, as the router names them. */
export type DeliveryEvent = 'message/bare' | 'message/full' | 'presence/bare' | 'presence/full' | 'iq/full';
