// What a module sees of the core: registration points, the session registry, routing. Modules are
// handed this interface, never the Core class, so the core can change behind it.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Element } from '../xml/element.js';
import type { StanzaError } from '../xmpp/errors.js';
import type { UserAddress } from '../xmpp/jid.js';
import type { EventBus } from './bus.js';
import type { DeliveryEvent, RouteContext } from './events.js';
import type { IqHandlerSpec } from './router.js';
import type { SessionRegistry } from './registry.js';
import type { C2sSession, DeliveryOutcome } from './session.js';

export type FeatureStage = 'negotiating' | 'authenticated';
export type StreamFeatureBuilder = (session: C2sSession) => Element | null;
export type NonzaHandler = (session: C2sSession, el: Element) => void | Promise<void>;
export type OutgoingFilter = (session: C2sSession, el: Element) => Element | null;
/** Return true to keep a bound session whose connection was lost (it becomes `detached`). */
export type ConnectionLossHandler = (session: C2sSession) => boolean;
/** Return true to take over reporting the outcome of a stanza just written to the session (see C2sSession.send). */
export type DeliveryTracker = (session: C2sSession, sent: Element, outcome: DeliveryOutcome) => boolean;

/**
 * Per-session state a module carries along when a session moves to another node (stream
 * resumption there). `save` returns something JSON can hold, or undefined for nothing to carry;
 * `restore` gets it back on the new node (ignoring what it cannot read: it crossed the network).
 */
export interface SessionCarrier {
  save(session: C2sSession): unknown;
  restore(session: C2sSession, saved: unknown): void | Promise<void>;
}

export interface ModuleApi {
  readonly domain: string;
  readonly mucDomain: string;
  readonly config: Config;
  readonly log: Logger;
  /** Who is connected to this node. */
  readonly sessions: SessionRegistry;

  /** Registers a handler for an event of the catalogue (events.ts), in one of its slots. */
  on: EventBus['on'];
  /** Fires an event of the catalogue (modules announce presence/initial, disco/items, roster/removed). */
  run: EventBus['run'];

  addStreamFeature(stage: FeatureStage, build: StreamFeatureBuilder, order?: number): void;
  handleNonza(xmlns: string, name: string, handler: NonzaHandler): void;
  handleIq(spec: IqHandlerSpec): void;
  addOutgoingFilter(filter: OutgoingFilter): void;
  /** Lets a module keep bound sessions alive, detached, when their connection is lost. */
  keepOnConnectionLoss(handler: ConnectionLossHandler): void;
  /** Lets a module confirm deliveries (C2sSession.send with an outcome); without one, written counts as delivered. */
  addDeliveryTracker(tracker: DeliveryTracker): void;
  /** Lets a module carry its per-session state when a session moves to another node. */
  carrySessionState(name: string, carrier: SessionCarrier): void;
  /** What every module carries of this session, by module name. */
  saveSessionState(session: C2sSession): Record<string, unknown>;
  /** Gives each module back what it carried. */
  restoreSessionState(session: C2sSession, saved: Record<string, unknown>): Promise<void>;
  addDiscoFeature(feature: string): void;
  readonly serverFeatures: string[];

  /** Routes a stanza whose `from` this server stamped: both phases for a user, or the addressed service. */
  route(stanza: Element, origin?: C2sSession | null): Promise<void>;
  /** The delivery phase alone (see Router.deliver). */
  deliver(event: DeliveryEvent, ctx: RouteContext): Promise<void>;
  /**
   * Makes room for one more resource of the session's account within `max_resources_per_user`
   * (the oldest detached session ends), or throws `resource-constraint`.
   */
  makeRoomToBind(session: C2sSession, resource: string): void;
  /** Forgets that a user exists (it was deleted): stanzas to it are refused from now on. */
  forgetUser(user: UserAddress): void;
  /** An error reply to the stanza's sender. */
  bounce(stanza: Element, error: StanzaError, origin?: C2sSession | null): void;
}
