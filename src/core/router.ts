// The router: where a stanza goes, by its `to` (RFC 6120 §10, RFC 6121 §8). A stanza for a user
// runs the outbound phase once (policy, storage, copies) and then the delivery phase for its
// address; stanzas for the server, the rooms' domain or the sender's own account go to their
// events or IQ handlers. Any routing handler that throws stops its stanza with an error reply.
import type { Logger } from 'pino';
import { Element, xml } from '../xml/element.js';
import { Jid, parseUserLocal, type UserAddress } from '../xmpp/jid.js';
import { StanzaError, errorReply } from '../xmpp/errors.js';
import type { EventBus } from './bus.js';
import type { DeliveryEvent, EventName, RouteContext } from './events.js';
import type { SessionRegistry } from './registry.js';
import type { C2sSession } from './session.js';

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

export interface AccountLookup {
  userExists(user: UserAddress): Promise<boolean>;
}

const USER_CACHE_LIMIT = 50_000;

/** What a run of routing handlers ended with when one of them threw: the stanza was refused. */
const REFUSED = Symbol('refused');

export class Router {
  private readonly iqHandlers = new Map<string, IqHandlerSpec>();
  private readonly knownUsers = new Set<string>();

  constructor(
    private readonly domain: string,
    private readonly mucDomain: string,
    private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly sessions: SessionRegistry,
    private readonly accounts: AccountLookup,
  ) {}

  handleIq(spec: IqHandlerSpec): void {
    this.iqHandlers.set(`${spec.scope} ${spec.xmlns} ${spec.name}`, spec);
  }

  /** A user that exists (it just bound a resource): no store lookup for stanzas to it. */
  rememberUser(local: string): void {
    this.knownUsers.add(local);
  }

  /** Forgets a cached user (after deletion). */
  forgetUser(user: UserAddress): void {
    this.knownUsers.delete(`${user.userId}-${user.appId}`);
  }

  processBeforeBind(session: C2sSession, iq: Element): Promise<void> {
    return this.dispatchIq(iq, Jid.of('', this.domain), session, (spec) => spec.beforeBind === true, 'not-authorized');
  }

  /** Routes a stanza whose `from` is already trustworthy (stamped by this server). */
  route(stanza: Element, origin: C2sSession | null = null): Promise<void> {
    try {
      return Promise.resolve(this.routeNow(stanza, origin));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `route` without a promise when every handler on the way answers synchronously (a 1-1 message
   * between online users, nearly always); a promise otherwise. May throw instead of rejecting.
   * `sender`: the Jid the stanza's `from` says, when the caller has it (not parsed again).
   */
  routeNow(stanza: Element, origin: C2sSession | null = null, sender?: Jid): void | Promise<void> {
    const from = sender ?? Jid.parse(stanza.attrs.from ?? '') ?? Jid.of('', this.domain);
    const toAttr = stanza.attrs.to;
    if (toAttr === undefined) return this.routeToSelf(stanza, from, origin);
    const to = Jid.parseCached(toAttr);
    if (!to) return this.bounce(stanza, new StanzaError('jid-malformed', 'the to address is not a valid JID'), origin);
    const kind = stanza.name as 'message' | 'presence' | 'iq';
    const ctx: RouteContext = { stanza, from, to, origin };
    if (to.domain === this.domain) {
      if (to.local) return this.routeToUser(ctx);
      if (kind === 'iq') return this.dispatchIq(stanza, to, origin);
      return this.unlessHandled(this.runRouting(`${kind}/host`, ctx), () => this.unhandled(ctx));
    }
    if (to.domain === this.mucDomain) {
      return this.unlessHandled(this.runRouting(`${kind}/muc`, ctx), () =>
        this.bounce(stanza, new StanzaError('service-unavailable', 'group chat is not available'), origin));
    }
    this.bounce(stanza, new StanzaError('remote-server-not-found', 'this server does not federate'), origin);
  }

  /**
   * The delivery phase alone, for a stanza whose outbound phase already ran: on this node (a full
   * JID's resource went away), on another node (`relayed`), or by stream management (`redelivery`).
   */
  deliver(event: DeliveryEvent, ctx: RouteContext): Promise<void> {
    try {
      return Promise.resolve(this.deliverNow(event, ctx));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private deliverNow(event: DeliveryEvent, ctx: RouteContext): void | Promise<void> {
    const outcome = this.runRouting(event, ctx);
    if (outcome === undefined) return this.unhandled(ctx);
    if (outcome instanceof Promise) return outcome.then((result) => (result === undefined ? this.unhandled(ctx) : undefined));
  }

  /** Calls `next` once a run of routing handlers ended without one taking the stanza (now, or when the run settles). */
  private unlessHandled(outcome: unknown, next: () => void | Promise<void>): void | Promise<void> {
    if (outcome instanceof Promise) return outcome.then((result) => (result === undefined ? next() : undefined));
    if (outcome === undefined) return next();
  }

  /** Sends an error reply for a stanza back to its sender; never answers an error with an error. */
  bounce(stanza: Element, error: StanzaError, origin: C2sSession | null = null): void {
    const type = stanza.attrs.type;
    if (type === 'error' || (stanza.name === 'iq' && type === 'result')) return;
    if (stanza.name === 'presence' && type !== 'subscribe' && type !== 'probe') return;
    const reply = errorReply(stanza, error);
    // RFC 6120 §10.3.3: a stanza with no `to` was for the sender's own account, which answers it.
    if (!reply.attrs.from) reply.attrs.from = (stanza.attrs.to === undefined ? Jid.parse(stanza.attrs.from ?? '')?.bare : undefined) ?? this.domain;
    this.reply(reply, origin);
  }

  private routeToSelf(stanza: Element, from: Jid, origin: C2sSession | null): void | Promise<void> {
    const ctx: RouteContext = { stanza, from, to: from.toBare(), origin };
    switch (stanza.name) {
      case 'iq':
        return this.dispatchIq(stanza, from.toBare(), origin);
      case 'presence':
        return this.unlessHandled(this.runRouting('presence/broadcast', ctx), () => this.unhandled(ctx));
      default:
        // RFC 6120 §10.3.1: a message with no 'to' is treated as addressed to the sender's bare JID.
        return this.routeToUser(ctx);
    }
  }

  private routeToUser(ctx: RouteContext): void | Promise<void> {
    const { stanza, to, origin } = ctx;
    const target = parseUserLocal(to.local);
    if (!target) return this.bounce(stanza, new StanzaError('service-unavailable', 'no such user'), origin);
    if (this.knownUsers.has(to.local) || this.sessions.isOnline(`${to.local}@${this.domain}`)) return this.routeToExistingUser(ctx, target);
    return this.userExists(to.local, target).then((exists) =>
      exists ? this.routeToExistingUser(ctx, target) : this.bounce(stanza, new StanzaError('service-unavailable', 'no such user'), origin));
  }

  private routeToExistingUser(ctx: RouteContext, target: UserAddress): void | Promise<void> {
    const { stanza, from, to, origin } = ctx;
    const sender = parseUserLocal(from.local);
    if (sender && sender.appId !== target.appId) {
      return this.bounce(stanza, new StanzaError('service-unavailable', 'users of different applications cannot exchange stanzas'), origin);
    }
    switch (stanza.name) {
      case 'iq':
        return to.isBare ? this.dispatchIq(stanza, to, origin) : this.deliverNow('iq/full', ctx);
      case 'message': {
        // Spelled out (no closure for unlessHandled): every chat message passes here.
        const outcome = this.runRouting('message/outbound', ctx);
        if (outcome === undefined) return this.deliverNow(to.isBare ? 'message/bare' : 'message/full', ctx);
        if (outcome instanceof Promise) return outcome.then((result) => (result === undefined ? this.deliverNow(to.isBare ? 'message/bare' : 'message/full', ctx) : undefined));
        return;
      }
      default:
        return this.unlessHandled(this.runRouting('presence/outbound', ctx), () => this.deliverNow(to.isBare ? 'presence/bare' : 'presence/full', ctx));
    }
  }

  /**
   * Runs a routing event; a handler that throws refuses the stanza (its StanzaError, else
   * internal-server-error). The result comes without a promise when every handler answered synchronously.
   */
  private runRouting(event: EventName & `${string}/${string}`, ctx: RouteContext): unknown {
    let outcome: unknown;
    try {
      outcome = this.bus.dispatch(event as 'message/bare', ctx);
    } catch (err) {
      return this.refuse(event, ctx, err);
    }
    return outcome instanceof Promise ? outcome.catch((err: unknown) => this.refuse(event, ctx, err)) : outcome;
  }

  private refuse(event: string, ctx: RouteContext, err: unknown): typeof REFUSED {
    if (!(err instanceof StanzaError)) this.log.error({ err, event, stanza: ctx.stanza.attrs.id }, 'a routing handler failed: the stanza is refused');
    this.bounce(ctx.stanza, err instanceof StanzaError ? err : new StanzaError('internal-server-error'), ctx.origin);
    return REFUSED;
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
      await this.bus.run('iq/response', { stanza, from, to, origin });
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
