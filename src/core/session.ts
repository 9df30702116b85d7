// The c2s session state machine (RFC 6120 §4-§7): stream header, features, STARTTLS and SASL
// restarts, then stanzas. Everything a feature does is delegated through the Core's registries;
// this file only enforces what may happen in which state.
import { randomBytes } from 'node:crypto';
import type { Element } from '../xml/element.js';
import { xml } from '../xml/element.js';
import type { ParseErrorCondition } from '../xml/stream-parser.js';
import type { ConnectionHandler, XmppConnection } from '../transport/types.js';
import { Jid, type UserAddress } from '../xmpp/jid.js';
import { NS_CLIENT, NS_FRAMING, NS_STREAM } from '../xmpp/ns.js';
import { StanzaError, StreamError, errorReply } from '../xmpp/errors.js';
import type { Logger } from 'pino';
import type { EventBus } from './bus.js';
import { metrics, stanzaKind } from '../metrics/index.js';
import { coarseNow } from '../util/coarse-clock.js';

export type SessionState = 'opening' | 'negotiating' | 'authenticated' | 'bound' | 'closed';

const MAX_QUEUED = 256; // stanzas awaiting processing before the socket is paused

/** Takes the events of a connection nobody listens to any more (one moved away by `handOver`). */
const IGNORE: ConnectionHandler = { streamStart() {}, element() {}, streamEnd() {}, parseError() {}, closed() {} };

/** What a session needs from the server it belongs to (the Core implements it). */
export interface SessionHost {
  readonly domain: string;
  readonly log: Logger;
  readonly authTimeoutSeconds: number;
  readonly bus: Pick<EventBus, 'run' | 'dispatch'>;
  streamFeatures(session: C2sSession): Element;
  nonzaHandler(xmlns: string | undefined, name: string): ((session: C2sSession, el: Element) => void | Promise<void>) | undefined;
  filterOutgoing(session: C2sSession, el: Element): Element | null;
  trackDelivery(session: C2sSession, sent: Element, outcome: DeliveryOutcome): void;
  processFromClient(session: C2sSession, stanza: Element): void | Promise<void>;
  processBeforeBind(session: C2sSession, iq: Element): Promise<void>;
  keepsOnConnectionLoss(session: C2sSession): boolean;
  sessionBound(session: C2sSession): void;
  sessionClosed(session: C2sSession, wasBound: boolean): void;
  sessionMigrated(session: C2sSession): void;
  sessionMoved(session: C2sSession): void;
  connectionReleased(connection: XmppConnection): void;
}

/** What `send` reports to a caller that asked: was the stanza confirmed received (see Core.addDeliveryTracker)? */
export type DeliveryOutcome = (delivered: boolean) => void;

export class C2sSession implements ConnectionHandler {
  readonly id = randomBytes(8).toString('hex');
  state: SessionState = 'opening';
  streamId = '';
  /** Set by the SASL module on success. */
  user: UserAddress | null = null;
  /** The full JID once bound. */
  jid: Jid | null = null;
  available = false;
  /** Bound, but its connection is gone and a module keeps it for a while (Core.keepOnConnectionLoss). */
  detached = false;
  presence: Element | null = null;
  priority = 0;
  lastActivity = Date.now();
  lastWrite = Date.now();
  /** Per-module state, keyed by the module's own symbol. */
  readonly data = new Map<symbol, unknown>();

  /** Set while an element's processing goes on asynchronously: what arrives meanwhile waits behind it. */
  private queue: Promise<void> | null = null;
  private queued = 0;
  private paused = false;
  private authTimer: NodeJS.Timeout | null;
  /** Set by `handOver`: the session this one's connection now belongs to, and on that one, the session relaying to it. */
  private movedTo: C2sSession | null = null;
  private feeder: C2sSession | null = null;

  constructor(
    private readonly core: SessionHost,
    private conn: XmppConnection,
  ) {
    conn.setHandler(this);
    this.authTimer = setTimeout(() => this.close(new StreamError('connection-timeout', 'authentication took too long')), core.authTimeoutSeconds * 1000);
    this.authTimer.unref?.();
  }

  get authenticated(): boolean {
    return this.user !== null;
  }

  get bareJid(): string | undefined {
    return this.jid?.bare;
  }

  /** The connection this session writes to (another one after `handOver`). */
  get connection(): XmppConnection {
    return this.conn;
  }

  /** Resolves once every element received so far has been processed (including those a `handOver` relays). */
  async idle(): Promise<void> {
    for (;;) {
      const queue = this.queue;
      await this.feeder?.idle();
      await queue;
      if (queue === this.queue || this.queue === null) return;
    }
  }

  // --- events from the transport ---

  streamStart(header: Element, ns: string | undefined): void {
    if (this.state === 'closed') return;
    this.streamId = randomBytes(12).toString('hex');
    const framed = ns === NS_FRAMING;
    this.connection.openStream({ from: this.core.domain, id: this.streamId, version: '1.0', 'xml:lang': 'en' });
    if (!framed && (header.localName !== 'stream' || ns !== NS_STREAM)) {
      return this.close(new StreamError('invalid-namespace', 'the stream element must be stream:stream in http://etherx.jabber.org/streams'));
    }
    if (!framed && header.attrs.xmlns !== NS_CLIENT) {
      return this.close(new StreamError('invalid-namespace', 'the content namespace must be jabber:client'));
    }
    const to = header.attrs.to;
    if (to !== undefined && to.toLowerCase() !== this.core.domain) {
      return this.close(new StreamError('host-unknown', `this server serves ${this.core.domain}`));
    }
    const version = header.attrs.version;
    if (version === undefined || !/^1\.\d+$/.test(version)) {
      return this.close(new StreamError('unsupported-version', 'XMPP 1.0 streams only'));
    }
    if (this.state === 'opening') this.state = 'negotiating';
    this.connection.send(this.core.streamFeatures(this));
  }

  // An element is processed as soon as it is parsed when nothing before it is still being processed
  // (nearly always): no promise, no microtask. Once one goes on asynchronously, those after it wait
  // in order behind it, and past MAX_QUEUED the connection stops reading.
  element(el: Element): void {
    if (this.state === 'closed') return;
    this.lastActivity = coarseNow();
    metrics.stanzasIn.add(stanzaKind(el.name));
    const received = el.name === 'message' ? performance.now() : 0;
    if (this.queue === null) {
      const pending = this.handle(el, received);
      if (pending) this.follow(pending);
      return;
    }
    this.queued++;
    if (this.queued > MAX_QUEUED && !this.paused) {
      this.paused = true;
      this.connection.pause();
    }
    this.follow(this.queue.then(() => {
      this.dequeued();
      return this.handle(el, received);
    }));
  }

  /** Processes one element; a promise only when its processing goes on asynchronously (it never rejects). */
  private handle(el: Element, received: number): Promise<void> | undefined {
    let result: void | Promise<void>;
    try {
      result = this.process(el);
    } catch (err) {
      this.failed(el, err);
      return undefined;
    }
    if (result instanceof Promise) {
      return result.then(
        () => this.processed(received),
        (err: unknown) => this.failed(el, err),
      );
    }
    this.processed(received);
    return undefined;
  }

  /** Makes `work` the end of the queue, until it settles with nothing more queued behind it. */
  private follow(work: Promise<void>): void {
    const queue: Promise<void> = work.then(() => {
      if (this.queue === queue) this.queue = null;
    });
    this.queue = queue;
  }

  private processed(received: number): void {
    if (received !== 0) metrics.deliveryLatency.record((performance.now() - received) / 1000);
  }

  private failed(el: Element, err: unknown): void {
    this.core.log.error({ err, session: this.id }, 'stanza processing failed');
    if (err instanceof StreamError) this.close(err);
    else if (isStanza(el) && el.attrs.type !== 'error' && el.attrs.type !== 'result') {
      this.send(errorReply(el, new StanzaError('internal-server-error')));
    }
  }

  streamEnd(): void {
    if (this.movedTo) return this.relay((target) => target.streamEnd());
    this.close();
  }

  parseError(condition: ParseErrorCondition, text: string): void {
    if (this.movedTo) return this.movedTo.parseError(condition, text);
    this.core.log.info({ session: this.id, remote: this.connection.remoteAddress, condition, text }, 'bad XML from client');
    this.close(new StreamError(condition, text));
  }

  /** The transport reports the connection gone. */
  closed(): void {
    const gone = this.conn;
    if (this.movedTo) return this.relay((target) => target.connectionLost(gone));
    this.connectionLost(gone);
  }

  // A module may keep a bound session whose connection was lost (not closed by either side): it
  // stays routable, detached, until the module closes it or `handOver` gives it a new connection.
  private connectionLost(gone: XmppConnection): void {
    if (gone !== this.conn || this.state === 'closed' || this.detached) return;
    if (this.state === 'bound' && this.core.keepsOnConnectionLoss(this)) {
      // The lost connection stays counted against its address until the session is resumed or ends (connection-limits.ts).
      this.detached = true;
      return;
    }
    this.end();
  }

  /**
   * Moves this session's connection onto `target`, a bound session of the same user (stream
   * resumption). `target`'s previous connection, if still open, is closed without ending `target`;
   * elements this session has queued or still reads are processed by `target`, in order. This
   * session leaves the registry without ever having been bound.
   */
  handOver(target: C2sSession): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    this.movedTo = target;
    this.core.sessionMoved(this);
    target.feeder = this;
    target.adopt(this.conn);
  }

  private adopt(connection: XmppConnection): void {
    const previous = this.conn;
    previous.setHandler(IGNORE);
    previous.close();
    this.core.connectionReleased(previous);
    this.conn = connection;
    this.detached = false;
    this.lastWrite = Date.now();
  }

  /** After `handOver`: passes an event on once everything queued before it has reached the target. */
  private relay(event: (target: C2sSession) => void): void {
    const target = this.movedTo!;
    if (this.queue === null) return event(target);
    this.follow(this.queue.then(() => {
      try {
        event(target);
      } catch (err) {
        this.core.log.error({ err, session: this.id }, 'relaying to the resumed session failed');
      }
    }));
  }

  // --- state changes driven by modules ---

  /** SASL success: remember the user; the client restarts the stream next. */
  authenticate(user: UserAddress): void {
    this.user = user;
    this.state = 'authenticated';
    this.connection.restart();
  }

  /** Resource binding: registers the full JID; a session already holding it is replaced. */
  bind(resource: string): Jid {
    const jid = Jid.of(`${this.user!.userId}-${this.user!.appId}`, this.core.domain, resource);
    this.jid = jid;
    this.state = 'bound';
    if (this.authTimer) {
      clearTimeout(this.authTimer);
      this.authTimer = null;
    }
    this.core.sessionBound(this);
    return jid;
  }

  /**
   * Sends a stanza or nonza to the client, through the outgoing filters. With `outcome`, the caller
   * learns whether the client confirmed receipt (a delivery tracker such as stream management) or,
   * when nobody tracks this session's deliveries, that it was written.
   */
  send(el: Element, outcome?: DeliveryOutcome): void {
    if (this.state === 'closed') return outcome?.(false);
    const out = this.core.filterOutgoing(this, el);
    if (!out) return outcome?.(true);
    this.lastWrite = coarseNow();
    this.conn.send(out);
    metrics.stanzasOut.add(stanzaKind(out.name));
    if (outcome) this.core.trackDelivery(this, out, outcome);
  }

  /**
   * For producers of many stanzas (history, offline flush): null while the client keeps up (write
   * on, without yielding), else a promise resolved once it has read enough of what was sent.
   */
  whenDrained(): Promise<void> | null {
    return this.state === 'closed' ? null : this.conn.whenDrained();
  }

  close(error?: StreamError): void {
    if (this.state === 'closed') return;
    if (error && error.condition !== 'system-shutdown') {
      this.core.log.debug({ session: this.id, condition: error.condition, text: error.text }, 'closing stream with error');
    }
    this.conn.close(error);
    this.end();
  }

  // Leaves routing as soon as the stream starts closing, so nothing more is handed to a stream that
  // will never deliver it: later stanzas take the offline path instead.
  private end(): void {
    if (this.state === 'closed') return;
    if (this.authTimer) clearTimeout(this.authTimer);
    const wasBound = this.state === 'bound';
    this.state = 'closed';
    this.core.sessionClosed(this, wasBound);
  }

  /** The session now lives on another node: it ends here without a word to anyone (see Core.sessionMigrated). */
  migrate(): void {
    if (this.state !== 'bound') return;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.state = 'closed';
    this.conn.close();
    this.core.sessionMigrated(this);
  }

  // --- processing ---

  private dequeued(): void {
    this.queued--;
    if (this.paused && this.queued < MAX_QUEUED / 2) {
      this.paused = false;
      this.connection.resume();
    }
  }

  // Without a promise when nothing on the way needs one (see EventBus.dispatch, Router.routeNow).
  private process(el: Element): void | Promise<void> {
    if (this.movedTo) return this.movedTo.element(el);
    if (this.state === 'closed') return;
    const taken = this.core.bus.dispatch('c2s/element', { session: this, element: el });
    if (taken instanceof Promise) return taken.then((result) => (result ? undefined : this.processUntaken(el)));
    if (taken) return;
    return this.processUntaken(el);
  }

  private processUntaken(el: Element): void | Promise<void> {
    const ns = el.attrs.xmlns;
    if (ns === NS_CLIENT && isStanza(el)) {
      if (this.state === 'bound') return this.core.processFromClient(this, el);
      if (this.state === 'authenticated' && el.name === 'iq') return this.core.processBeforeBind(this, el);
      return this.close(new StreamError('not-authorized', 'authenticate and bind a resource first'));
    }
    if (el.localName === 'error' && el.namespace() === NS_STREAM) {
      this.core.log.info({ session: this.id, error: el.toString() }, 'client sent a stream error');
      return this.close();
    }
    const handler = this.core.nonzaHandler(ns, el.localName);
    if (handler) return handler(this, el);
    this.close(new StreamError('unsupported-stanza-type', `<${el.name}> in ${ns ?? 'no namespace'} is not understood here`));
  }
}

export function isStanza(el: Element): boolean {
  return el.name === 'message' || el.name === 'presence' || el.name === 'iq';
}

export const streamFeaturesElement = (children: Element[]): Element => xml('stream:features', { 'xmlns:stream': NS_STREAM }, ...children);
