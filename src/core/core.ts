// The core: the session registry, the router and the registries modules plug into (events, stream
// features, nonza handlers, IQ handlers, outgoing filters). It never imports a module; the
// composition root hands each module this object as its ModuleApi.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Element } from '../xml/element.js';
import type { XmppConnection } from '../transport/types.js';
import type { UserAddress } from '../xmpp/jid.js';
import { StanzaError, StreamError } from '../xmpp/errors.js';
import { EventBus } from './bus.js';
import { ConnectionLimits } from './connection-limits.js';
import type { DeliveryEvent, RouteContext } from './events.js';
import type {
  ConnectionLossHandler, DeliveryTracker, FeatureStage, ModuleApi, NonzaHandler, OutgoingFilter, SessionCarrier, StreamFeatureBuilder,
} from './module-api.js';
import { SessionRegistry } from './registry.js';
import { Router, type AccountLookup, type IqHandlerSpec } from './router.js';
import { C2sSession, streamFeaturesElement, type DeliveryOutcome, type SessionHost } from './session.js';

export type { AccountLookup, IqContext, IqHandler, IqHandlerSpec, IqScope } from './router.js';
export type { RouteContext } from './events.js';
export type * from './module-api.js';

export class Core implements ModuleApi, SessionHost {
  readonly domain: string;
  readonly mucDomain: string;
  readonly bus: EventBus;
  readonly sessions = new SessionRegistry();
  readonly authTimeoutSeconds: number;
  private readonly router: Router;
  private readonly features: Record<FeatureStage, { order: number; build: StreamFeatureBuilder }[]> = { negotiating: [], authenticated: [] };
  private readonly nonzas = new Map<string, NonzaHandler>();
  private readonly filters: OutgoingFilter[] = [];
  private readonly lossHandlers: ConnectionLossHandler[] = [];
  private readonly deliveryTrackers: DeliveryTracker[] = [];
  private readonly carriers = new Map<string, SessionCarrier>();
  private readonly closing = new Set<Promise<unknown>>();
  private readonly discoFeatures = new Set<string>();
  /** Connections per address and resources per account (connection-limits.ts); listeners count TLS sockets with it too. */
  readonly connectionLimits: ConnectionLimits;
  private keepAliveTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly config: Config,
    readonly log: Logger,
    private readonly accounts: AccountLookup,
  ) {
    this.domain = config.domain;
    this.mucDomain = `muc.${config.domain}`;
    this.authTimeoutSeconds = config.auth_timeout;
    this.bus = new EventBus(log);
    this.router = new Router(this.domain, this.mucDomain, log, this.bus, this.sessions, accounts);
    this.connectionLimits = new ConnectionLimits({ maxPerAddress: config.max_connections_per_ip, maxResourcesPerUser: config.max_resources_per_user });
  }

  readonly on: EventBus['on'] = (event, slot, handler) => this.bus.on(event, slot, handler);
  readonly run: EventBus['run'] = (event, payload) => this.bus.run(event, payload);

  // --- the module API ---

  addStreamFeature(stage: FeatureStage, build: StreamFeatureBuilder, order = 50): void {
    this.features[stage].push({ order, build });
    this.features[stage].sort((a, b) => a.order - b.order);
  }

  handleNonza(xmlns: string, name: string, handler: NonzaHandler): void {
    this.nonzas.set(`${xmlns} ${name}`, handler);
  }

  handleIq(spec: IqHandlerSpec): void {
    this.router.handleIq(spec);
  }

  addOutgoingFilter(filter: OutgoingFilter): void {
    this.filters.push(filter);
  }

  /** Lets a module keep bound sessions alive, detached, when their connection is lost. */
  keepOnConnectionLoss(handler: ConnectionLossHandler): void {
    this.lossHandlers.push(handler);
  }

  /** Lets a module confirm deliveries (C2sSession.send with an outcome); without one, written counts as delivered. */
  addDeliveryTracker(tracker: DeliveryTracker): void {
    this.deliveryTrackers.push(tracker);
  }

  /** Lets a module carry its per-session state when a session moves to another node. */
  carrySessionState(name: string, carrier: SessionCarrier): void {
    this.carriers.set(name, carrier);
  }

  /** What every module carries of this session, by module name. */
  saveSessionState(session: C2sSession): Record<string, unknown> {
    const saved: Record<string, unknown> = {};
    for (const [name, carrier] of this.carriers) {
      const value = carrier.save(session);
      if (value !== undefined) saved[name] = value;
    }
    return saved;
  }

  /** Gives each module back what it carried; one that fails is logged and skipped. */
  async restoreSessionState(session: C2sSession, saved: Record<string, unknown>): Promise<void> {
    for (const [name, carrier] of this.carriers) {
      if (!(name in saved)) continue;
      try {
        await carrier.restore(session, saved[name]);
      } catch (err) {
        this.log.warn({ err, module: name }, 'restoring carried session state failed');
      }
    }
  }

  addDiscoFeature(feature: string): void {
    this.discoFeatures.add(feature);
  }

  get serverFeatures(): string[] {
    return [...this.discoFeatures];
  }

  /** Forget a cached user (after deletion). */
  forgetUser(user: UserAddress): void {
    this.router.forgetUser(user);
  }

  // --- connections ---

  accept(connection: XmppConnection): C2sSession {
    const session = new C2sSession(this, connection);
    this.sessions.track(session);
    this.log.debug({ session: session.id, transport: connection.kind, remote: connection.remoteAddress }, 'connection opened');
    if (!this.connectionLimits.admit(connection, connection.remoteAddress)) {
      this.log.warn({ remote: connection.remoteAddress }, 'too many connections from one address');
      session.close(new StreamError('policy-violation', 'too many connections from your address'));
    }
    return session;
  }

  start(): void {
    const interval = this.config.keepalive_interval * 1000;
    if (interval > 0) {
      this.keepAliveTimer = setInterval(() => {
        const idleSince = Date.now() - interval;
        for (const session of this.sessions.connections()) {
          if (session.lastWrite < idleSince) {
            session.lastWrite = Date.now();
            session.connection.keepAlive();
          }
        }
      }, Math.max(1000, interval / 2));
      this.keepAliveTimer.unref();
    }
  }

  /** Closes every stream with `system-shutdown` and waits (bounded) for the connections to go. */
  async stop(timeoutMs = 3000): Promise<void> {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    for (const session of [...this.sessions.connections()]) session.close(new StreamError('system-shutdown', 'the server is shutting down'));
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // What modules do when a session ends (presence, undelivered stanzas to offline storage) finishes before the store closes.
    const left = Math.max(0, deadline - Date.now());
    await Promise.race([Promise.all(this.closing), new Promise((r) => setTimeout(r, left).unref())]);
  }

  streamFeatures(session: C2sSession): Element {
    const stage: FeatureStage = session.authenticated ? 'authenticated' : 'negotiating';
    const children: Element[] = [];
    for (const feature of this.features[stage]) {
      const el = feature.build(session);
      if (el) children.push(el);
    }
    return streamFeaturesElement(children);
  }

  nonzaHandler(xmlns: string | undefined, name: string): NonzaHandler | undefined {
    return this.nonzas.get(`${xmlns} ${name}`);
  }

  filterOutgoing(session: C2sSession, el: Element): Element | null {
    let out: Element | null = el;
    for (const filter of this.filters) {
      out = filter(session, out);
      if (!out) return null;
    }
    return out;
  }

  sessionBound(session: C2sSession): void {
    const replaced = this.sessions.bind(session);
    if (replaced) {
      this.sessions.unbind(replaced);
      replaced.close(new StreamError('conflict', 'replaced by a new login with the same resource'));
    }
    this.router.rememberUser(session.jid!.local);
    void this.bus.run('session/bound', { session });
  }

  sessionClosed(session: C2sSession, wasBound: boolean): void {
    this.log.debug({ session: session.id, jid: session.jid?.toString(), remote: session.connection.remoteAddress }, 'connection closed');
    this.sessions.untrack(session);
    this.connectionReleased(session.connection);
    if (!wasBound) return;
    const run = this.bus.run('session/closed', { session });
    this.closing.add(run);
    void run.finally(() => this.closing.delete(run));
  }

  /**
   * A bound session moved to another node (C2sSession.migrate): it leaves this node without the
   * 'session/closed' handlers (no unavailable presence, nothing rerouted); 'session/migrated' lets
   * modules drop what they hold for it.
   */
  sessionMigrated(session: C2sSession): void {
    this.sessions.untrack(session);
    this.connectionReleased(session.connection);
    const run = this.bus.run('session/migrated', { session });
    this.closing.add(run);
    void run.finally(() => this.closing.delete(run));
  }

  /** A session handed its connection to another (C2sSession.handOver): it leaves the registry, its connection stays counted. */
  sessionMoved(session: C2sSession): void {
    this.sessions.untrack(session);
  }

  /** A connection is gone or no longer belongs to a session: it stops counting against its address. */
  connectionReleased(connection: XmppConnection): void {
    this.connectionLimits.release(connection);
  }

  keepsOnConnectionLoss(session: C2sSession): boolean {
    return this.lossHandlers.some((handler) => handler(session));
  }

  trackDelivery(session: C2sSession, sent: Element, outcome: DeliveryOutcome): void {
    for (const tracker of this.deliveryTrackers) if (tracker(session, sent, outcome)) return;
    outcome(true);
  }

  makeRoomToBind(session: C2sSession, resource: string): void {
    const user = session.user!;
    this.connectionLimits.makeRoomToBind(this.sessions, session, `${user.userId}-${user.appId}@${this.domain}`, resource);
  }

  // --- routing ---

  processBeforeBind(session: C2sSession, iq: Element): Promise<void> {
    return this.router.processBeforeBind(session, iq);
  }

  processFromClient(session: C2sSession, stanza: Element): void | Promise<void> {
    const from = session.jid!;
    stanza.attrs.from = from.toString();
    return this.router.routeNow(stanza, session, from);
  }

  route(stanza: Element, origin: C2sSession | null = null): Promise<void> {
    return this.router.route(stanza, origin);
  }

  deliver(event: DeliveryEvent, ctx: RouteContext): Promise<void> {
    return this.router.deliver(event, ctx);
  }

  bounce(stanza: Element, error: StanzaError, origin: C2sSession | null = null): void {
    this.router.bounce(stanza, error, origin);
  }
}
