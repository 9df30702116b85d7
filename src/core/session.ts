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
import type { Core } from './core.js';

export type SessionState = 'opening' | 'negotiating' | 'authenticated' | 'bound' | 'closed';

const MAX_QUEUED = 256; // stanzas awaiting processing before the socket is paused

export class C2sSession implements ConnectionHandler {
  readonly id = randomBytes(8).toString('hex');
  state: SessionState = 'opening';
  streamId = '';
  /** Set by the SASL module on success. */
  user: UserAddress | null = null;
  /** The full JID once bound. */
  jid: Jid | null = null;
  available = false;
  presence: Element | null = null;
  priority = 0;
  lastActivity = Date.now();
  lastWrite = Date.now();
  /** Per-module state, keyed by the module's own symbol. */
  readonly data = new Map<symbol, unknown>();

  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private paused = false;
  private authTimer: NodeJS.Timeout | null;

  constructor(
    readonly core: Core,
    readonly connection: XmppConnection,
  ) {
    connection.setHandler(this);
    this.authTimer = setTimeout(() => this.close(new StreamError('connection-timeout', 'authentication took too long')), core.config.auth_timeout * 1000);
    this.authTimer.unref?.();
  }

  get authenticated(): boolean {
    return this.user !== null;
  }

  get bareJid(): string | undefined {
    return this.jid?.bare;
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

  element(el: Element): void {
    if (this.state === 'closed') return;
    this.lastActivity = Date.now();
    this.queued++;
    if (this.queued > MAX_QUEUED && !this.paused) {
      this.paused = true;
      this.connection.pause();
    }
    this.queue = this.queue.then(() => this.process(el)).then(
      () => this.dequeued(),
      (err) => {
        this.dequeued();
        this.core.log.error({ err, session: this.id }, 'stanza processing failed');
        if (err instanceof StreamError) this.close(err);
        else if (isStanza(el) && el.attrs.type !== 'error' && el.attrs.type !== 'result') {
          this.send(errorReply(el, new StanzaError('internal-server-error')));
        }
      },
    );
  }

  streamEnd(): void {
    this.close();
  }

  parseError(condition: ParseErrorCondition, text: string): void {
    this.core.log.info({ session: this.id, remote: this.connection.remoteAddress, condition, text }, 'bad XML from client');
    this.close(new StreamError(condition, text));
  }

  /** The transport reports the connection gone. */
  closed(): void {
    this.end();
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

  /** Sends a stanza or nonza to the client, through the outgoing filters. */
  send(el: Element): void {
    if (this.state === 'closed') return;
    const out = this.core.filterOutgoing(this, el);
    if (!out) return;
    this.lastWrite = Date.now();
    this.connection.send(out);
  }

  close(error?: StreamError): void {
    if (this.state === 'closed') return;
    if (error && error.condition !== 'system-shutdown') {
      this.core.log.debug({ session: this.id, condition: error.condition, text: error.text }, 'closing stream with error');
    }
    this.connection.close(error);
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

  // --- processing ---

  private dequeued(): void {
    this.queued--;
    if (this.paused && this.queued < MAX_QUEUED / 2) {
      this.paused = false;
      this.connection.resume();
    }
  }

  private async process(el: Element): Promise<void> {
    if (this.state === 'closed') return;
    if (await this.core.hooks.run('c2s/element', { session: this, element: el })) return;
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
