// The core: session registry, router and the registries modules plug into (stream features,
// nonza handlers, IQ handlers, outgoing filters, hooks). It never imports a module; the composition
// root hands each module this object (the module API).
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { Element, xml } from '../xml/element.js';
import type { XmppConnection } from '../transport/types.js';
import { Jid, parseUserLocal, type UserAddress } from '../xmpp/jid.js';
import { StanzaError, StreamError, errorReply } from '../xmpp/errors.js';
import { HookBus } from './hooks.js';
import { SessionRegistry } from './registry.js';
import { C2sSession, streamFeaturesElement, type DeliveryOutcome } from './session.js';

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

/** Who handles an IQ: the server itself ("host"), or the server on behalf of an account ("account"). */
export type IqScope = 'host' | 'account';

export interface IqContext {
  stanza: Element;
  /** The single payload child. */
  payload: Element;
  from: Jid;
  /** The addressed entity: the domain for host IQs, the account's bare JID for account IQs. */
  to: Jid;
  /** The sending session, when the IQ came from a local client. */
  session: C2sSession | null;
}

/** Return an element for a result with that payload, null for an empty result, undefined for service-unavailable; throw a StanzaError for an error. */
export type IqHandler = (ctx: IqContext) => Element | null | undefined | Promise<Element | null | undefined>;

export interface IqHandlerSpec {
  scope: IqScope;
  xmlns: string;
  name: string;
  get?: IqHandler;
  set?: IqHandler;
  /** May be used after authentication but before resource binding (bind, session). */
  beforeBind?: boolean;
}

/** What routing hooks receive: `message/bare`, `message/full`, `presence/bare`, `presence/full`, `message/host`, `message/muc` … */
export interface RouteContext {
  stanza: Element;
  from: Jid;
  to: Jid;
  origin: C2sSession | null;
}

export interface AccountLookup {
  userExists(user: UserAddress): Promise<boolean>;
}

const USER_CACHE_LIMIT = 50_000;

export class Core {
  readonly domain: string;
  readonly mucDomain: string;
  readonly hooks: HookBus;
  readonly sessions = new SessionRegistry();
  private readonly features: Record<FeatureStage, { order: number; build: StreamFeatureBuilder }[]> = { negotiating: [], authenticated: [] };
  private readonly nonzas = new Map<string, NonzaHandler>();
  private readonly iqHandlers = new Map<string, IqHandlerSpec>();
  private readonly filters: OutgoingFilter[] = [];
  private readonly lossHandlers: ConnectionLossHandler[] = [];
  private readonly deliveryTrackers: DeliveryTracker[] = [];
  private readonly carriers = new Map<string, SessionCarrier>();
  private readonly countedConnections = new WeakSet<XmppConnection>();
  private readonly closing = new Set<Promise<unknown>>();
  private readonly discoFeatures = new Set<string>();
  private readonly knownUsers = new Set<string>();
  private readonly connectionsPerIp = new Map<string, number>();
  private keepAliveTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly config: Config,
    readonly log: Logger,
    private readonly accounts: AccountLookup,
  ) {
    this.domain = config.domain;
    this.mucDomain = `muc.${config.domain}`;
    this.hooks = new HookBus(log);
  }

  // --- the module API ---

  addStreamFeature(stage: FeatureStage, build: StreamFeatureBuilder, order = 50): void {
    this.features[stage].push({ order, build });
    this.features[stage].sort((a, b) => a.order - b.order);
  }

  handleNonza(xmlns: string, name: string, handler: NonzaHandler): void {
    this.nonzas.set(`${xmlns} ${name}`, handler);
  }

  handleIq(spec: IqHandlerSpec): void {
    this.iqHandlers.set(`${spec.scope} ${spec.xmlns} ${spec.name}`, spec);
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
    this.knownUsers.delete(`${user.userId}-${user.appId}`);
  }

  // --- connections ---

  accept(connection: XmppConnection): C2sSession {
    const session = new C2sSession(this, connection);
    this.sessions.track(session);
    const address = connection.remoteAddress;
    const count = (this.connectionsPerIp.get(address) ?? 0) + 1;
    this.connectionsPerIp.set(address, count);
    this.countedConnections.add(connection);
    this.log.debug({ session: session.id, transport: connection.kind, remote: address }, 'connection opened');
    if (count > this.config.max_connections_per_ip) {
      this.log.warn({ remote: address, limit: this.config.max_connections_per_ip }, 'too many connections from one address');
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
    this.knownUsers.add(session.jid!.local);
    void this.hooks.run('session/bound', { session });
  }

  sessionClosed(session: C2sSession, wasBound: boolean): void {
    this.log.debug({ session: session.id, jid: session.jid?.toString(), remote: session.connection.remoteAddress }, 'connection closed');
    this.sessions.untrack(session);
    this.connectionReleased(session.connection);
    if (!wasBound) return;
    const run = this.hooks.run('session/closed', { session });
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
    const run = this.hooks.run('session/migrated', { session });
    this.closing.add(run);
    void run.finally(() => this.closing.delete(run));
  }

  /** A session handed its connection to another (C2sSession.handOver): it leaves the registry, its connection stays counted. */
  sessionMoved(session: C2sSession): void {
    this.sessions.untrack(session);
  }

  /** A connection is gone or no longer belongs to a session: it stops counting against its address. */
  connectionReleased(connection: XmppConnection): void {
    if (!this.countedConnections.delete(connection)) return;
    const address = connection.remoteAddress;
    const left = (this.connectionsPerIp.get(address) ?? 1) - 1;
    if (left <= 0) this.connectionsPerIp.delete(address);
    else this.connectionsPerIp.set(address, left);
  }

  keepsOnConnectionLoss(session: C2sSession): boolean {
    return this.lossHandlers.some((handler) => handler(session));
  }

  trackDelivery(session: C2sSession, sent: Element, outcome: DeliveryOutcome): void {
    for (const tracker of this.deliveryTrackers) if (tracker(session, sent, outcome)) return;
    outcome(true);
  }

  // --- routing ---

  processBeforeBind(session: C2sSession, iq: Element): Promise<void> {
    return this.dispatchIq(iq, Jid.of('', this.domain), session, (spec) => spec.beforeBind === true, 'not-authorized');
  }

  async processFromClient(session: C2sSession, stanza: Element): Promise<void> {
    stanza.attrs.from = session.jid!.toString();
    await this.route(stanza, session);
  }

  /** Routes a stanza whose `from` is already trustworthy (stamped by this server). */
  async route(stanza: Element, origin: C2sSession | null = null): Promise<void> {
    const from = Jid.parse(stanza.attrs.from ?? '') ?? Jid.of('', this.domain);
    const toAttr = stanza.attrs.to;
    if (toAttr === undefined) return this.routeToSelf(stanza, from, origin);
    const to = Jid.parse(toAttr);
    if (!to) return this.bounce(stanza, new StanzaError('jid-malformed', 'the to address is not a valid JID'), origin);
    const kind = stanza.name;
    const ctx: RouteContext = { stanza, from, to, origin };
    if (to.domain === this.domain) {
      if (!to.local) {
        if (kind === 'iq') return this.dispatchIq(stanza, to, origin);
        if ((await this.hooks.run(`${kind}/host`, ctx)) === undefined) this.unhandled(ctx);
        return;
      }
      return this.routeToUser(ctx);
    }
    if (to.domain === this.mucDomain) {
      if ((await this.hooks.run(`${kind}/muc`, ctx)) === undefined) {
        this.bounce(stanza, new StanzaError('service-unavailable', 'group chat is not available'), origin);
      }
      return;
    }
    this.bounce(stanza, new StanzaError('remote-server-not-found', 'this server does not federate'), origin);
  }

  /** Sends an error reply for a stanza back to its sender; never answers an error with an error. */
  bounce(stanza: Element, error: StanzaError, origin: C2sSession | null = null): void {
    const type = stanza.attrs.type;
    if (type === 'error' || (stanza.name === 'iq' && type === 'result')) return;
    if (stanza.name === 'presence' && type !== 'subscribe' && type !== 'probe') return;
    const reply = errorReply(stanza, error);
    if (!reply.attrs.from) reply.attrs.from = this.domain;
    this.reply(reply, origin);
  }

  private async routeToSelf(stanza: Element, from: Jid, origin: C2sSession | null): Promise<void> {
    const ctx: RouteContext = { stanza, from, to: from.toBare(), origin };
    switch (stanza.name) {
      case 'iq':
        return this.dispatchIq(stanza, from.toBare(), origin);
      case 'presence':
        if ((await this.hooks.run('presence/broadcast', ctx)) === undefined) this.unhandled(ctx);
        return;
      default:
        // RFC 6120 §10.3.1: a message with no 'to' is treated as addressed to the sender's bare JID.
        return this.routeToUser(ctx);
    }
  }

  private async routeToUser(ctx: RouteContext): Promise<void> {
    const { stanza, from, to, origin } = ctx;
    const target = parseUserLocal(to.local);
    if (!target || !(await this.userExists(to.local, target))) {
      return this.bounce(stanza, new StanzaError('service-unavailable', 'no such user'), origin);
    }
    const sender = parseUserLocal(from.local);
    if (sender && sender.appId !== target.appId) {
      return this.bounce(stanza, new StanzaError('service-unavailable', 'users of different applications cannot exchange stanzas'), origin);
    }
    if (stanza.name === 'iq' && to.isBare) return this.dispatchIq(stanza, to, origin);
    if ((await this.hooks.run(`${stanza.name}/${to.isBare ? 'bare' : 'full'}`, ctx)) === undefined) this.unhandled(ctx);
  }

  /** RFC 6120 §10.5: what happens when no module took a stanza for a local user. */
  private unhandled(ctx: RouteContext): void {
    const { stanza, to, origin } = ctx;
    if (stanza.name === 'iq' && !to.isBare && to.local) {
      const session = this.sessions.get(to.bare, to.resource);
      if (session) return session.send(stanza);
    }
    if (stanza.name === 'presence') return;
    const type = stanza.attrs.type;
    if (stanza.name === 'message' && (type === 'groupchat' || type === 'headline' || type === 'error')) return;
    this.bounce(stanza, new StanzaError('service-unavailable'), origin);
  }

  private async userExists(local: string, user: UserAddress): Promise<boolean> {
    if (this.knownUsers.has(local) || this.sessions.isOnline(`${local}@${this.domain}`)) return true;
    const exists = await this.accounts.userExists(user);
    if (exists) {
      if (this.knownUsers.size >= USER_CACHE_LIMIT) this.knownUsers.clear();
      this.knownUsers.add(local);
    }
    return exists;
  }

  private async dispatchIq(
    stanza: Element,
    to: Jid,
    origin: C2sSession | null,
    allow: (spec: IqHandlerSpec) => boolean = () => true,
    denied: 'service-unavailable' | 'not-authorized' = 'service-unavailable',
  ): Promise<void> {
    const type = stanza.attrs.type;
    const from = Jid.parse(stanza.attrs.from ?? '') ?? Jid.of('', this.domain);
    if (type === 'result' || type === 'error') {
      await this.hooks.run('iq/response', { stanza, from, to, origin });
      return;
    }
    if (type !== 'get' && type !== 'set') return this.bounce(stanza, new StanzaError('bad-request', 'an IQ must be of type get, set, result or error'), origin);
    if (!stanza.attrs.id) return this.bounce(stanza, new StanzaError('bad-request', 'an IQ needs an id'), origin);
    const payloads = stanza.getChildren();
    if (payloads.length !== 1) return this.bounce(stanza, new StanzaError('bad-request', 'an IQ get or set carries exactly one payload'), origin);
    const payload = payloads[0]!;
    const ns = payload.namespace();
    const toAccount = to.local !== '';
    const ownAccount = stanza.attrs.to === undefined;
    const spec =
      (toAccount ? this.iqHandlers.get(`account ${ns} ${payload.localName}`) : undefined) ??
      (!toAccount || ownAccount ? this.iqHandlers.get(`host ${ns} ${payload.localName}`) : undefined);
    const handler = spec && allow(spec) ? spec[type] : undefined;
    if (!handler) {
      return this.bounce(stanza, new StanzaError(spec && !allow(spec) ? denied : 'service-unavailable'), origin);
    }
    let result: Element | null | undefined;
    try {
      result = await handler({ stanza, payload, from, to, session: origin });
    } catch (err) {
      if (err instanceof StanzaError) return this.bounce(stanza, err, origin);
      this.log.error({ err, iq: stanza.toString() }, 'IQ handler failed');
      return this.bounce(stanza, new StanzaError('internal-server-error'), origin);
    }
    if (result === undefined) return this.bounce(stanza, new StanzaError('service-unavailable'), origin);
    const reply = xml('iq', { type: 'result', id: stanza.attrs.id }, result);
    if (stanza.attrs.to !== undefined) reply.attrs.from = stanza.attrs.to;
    reply.attrs.to = stanza.attrs.from ?? '';
    this.reply(reply, origin);
  }

  /** A reply goes straight back to the session the request came from, or is routed. */
  private reply(reply: Element, origin: C2sSession | null): void {
    if (!origin) {
      void this.route(reply);
      return;
    }
    if (!origin.jid || !reply.attrs.to) delete reply.attrs.to;
    origin.send(reply);
  }
}
