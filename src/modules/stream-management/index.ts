// Stream management (XEP-0198): stanza acknowledgements and stream resumption, built from the
// module API: a stream feature, nonza handlers (<enable/>, <resume/>, <r/>, <a/>), an outgoing
// filter that counts and keeps what the client has not acknowledged, a delivery tracker, the
// 'c2s/element' hook to count what the client sent, and the core's keep-on-connection-loss and
// handOver capabilities to hold a dropped session and move it onto the resuming connection.
//
// Durability: the inbound count `h` is only reported (<a/>, <resumed/>) once every stanza before
// it has been processed — routing awaits offline storage — because the session processes
// elements in order and resumption first waits for the old session to go idle.
import { randomBytes } from 'node:crypto';
import type { Core, RouteContext } from '../../core/core.js';
import { isStanza, type C2sSession } from '../../core/session.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_CLIENT, NS_STANZA_ERRORS } from '../../xmpp/ns.js';
import { StreamError } from '../../xmpp/errors.js';
import { add32, OutboundQueue, parseH } from './counters.js';
import { ResumableSessions } from './resumption.js';
import { settleUndelivered } from './undelivered.js';

export const NS_SM = 'urn:xmpp:sm:3';
const STATE = Symbol('stream-management');
const MAX_MARKS = 64;

interface SmState {
  /** Resumption id, when the client asked for resumption. */
  id: string | null;
  /** Seconds the session is kept after its connection drops. */
  max: number;
  /** Stanzas received from the client (mod 2^32). */
  inbound: number;
  out: OutboundQueue;
  /** Stanzas sent since our last <r/>, and its timer. */
  sinceRequest: number;
  requestTimer: NodeJS.Timeout | null;
  /** The sent count at each <r/> not yet answered, oldest first. */
  marks: number[];
  expiry: NodeJS.Timeout | null;
  resuming: boolean;
  overflowing: boolean;
}

const ended = (session: C2sSession): boolean => session.state === 'closed';
const smOf = (session: C2sSession): SmState | undefined => session.data.get(STATE) as SmState | undefined;
const sm = (name: string, attrs: Record<string, string> = {}, ...children: Element[]): Element => xml(name, { xmlns: NS_SM, ...attrs }, ...children);

export function streamManagementModule(core: Core): void {
  const config = core.config;
  const resumable = new ResumableSessions(config.sm_resume_timeout * 1000);
  const availableSince = new WeakMap<C2sSession, number>();

  const failed = (session: C2sSession, condition: string, h?: number, extra?: Element): void => {
    const attrs: Record<string, string> = h === undefined ? {} : { h: String(h) };
    session.send(sm('failed', attrs, xml(condition, { xmlns: NS_STANZA_ERRORS }), ...(extra ? [extra] : [])));
  };
  const tooHigh = (h: number, out: OutboundQueue): Element => sm('handled-count-too-high', { h: String(h), 'send-count': String(out.sent) });
  const notEnabled = (session: C2sSession): void => session.close(new StreamError('unsupported-stanza-type', 'stream management is not enabled'));

  const requestAck = (session: C2sSession, s: SmState): void => {
    s.sinceRequest = 0;
    if (s.requestTimer) clearTimeout(s.requestTimer);
    s.requestTimer = null;
    // After the stanza being sent now: the mark is what the client has when it reads this <r/>.
    queueMicrotask(() => {
      if (ended(session) || session.detached || s.resuming) return;
      if (s.marks.length >= MAX_MARKS) s.marks.shift();
      s.marks.push(s.out.sent);
      session.send(sm('r'));
    });
  };

  // --- negotiation ---

  core.addStreamFeature('authenticated', () => sm('sm'), 20);

  core.handleNonza(NS_SM, 'enable', (session, el) => {
    if (session.state !== 'bound') return failed(session, 'unexpected-request');
    if (smOf(session)) return failed(session, 'unexpected-request');
    const wantsResume = (el.attrs.resume === 'true' || el.attrs.resume === '1') && config.sm_resume_timeout > 0;
    const asked = parseH(el.attrs.max) ?? 0;
    const s: SmState = {
      id: wantsResume ? randomBytes(18).toString('base64url') : null,
      max: asked > 0 ? Math.min(asked, config.sm_resume_timeout) : config.sm_resume_timeout,
      inbound: 0,
      out: new OutboundQueue(),
      sinceRequest: 0,
      requestTimer: null,
      marks: [],
      expiry: null,
      resuming: false,
      overflowing: false,
    };
    session.data.set(STATE, s);
    if (s.id) resumable.add(s.id, session);
    session.send(sm('enabled', s.id ? { id: s.id, resume: 'true', max: String(s.max) } : {}));
  });

  // --- counting ---

  core.hooks.on(
    'c2s/element',
    ({ session, element }: { session: C2sSession; element: Element }) => {
      const s = smOf(session);
      if (s && element.attrs.xmlns === NS_CLIENT && isStanza(element)) s.inbound = add32(s.inbound, 1);
      return undefined;
    },
    1000,
  );

  // Registered last among the filters (see server.ts): it sees what is actually written.
  core.addOutgoingFilter((session, el) => {
    const s = smOf(session);
    if (!s || !isStanza(el)) return el;
    s.out.push(el, Date.now());
    if (s.out.length > config.sm_max_unacked && !s.overflowing) {
      s.overflowing = true;
      queueMicrotask(() => session.close(new StreamError('resource-constraint', `more than ${config.sm_max_unacked} stanzas unacknowledged`)));
    }
    s.sinceRequest++;
    if (config.sm_ack_request_every > 0 && s.sinceRequest >= config.sm_ack_request_every) requestAck(session, s);
    else if (config.sm_ack_request_seconds > 0 && !s.requestTimer) {
      s.requestTimer = setTimeout(() => {
        s.requestTimer = null;
        if (s.sinceRequest > 0) requestAck(session, s);
      }, config.sm_ack_request_seconds * 1000);
      s.requestTimer.unref();
    }
    return el;
  });

  core.addDeliveryTracker((session, sent, outcome) => smOf(session)?.out.attachOutcome(sent, outcome) ?? false);

  core.handleNonza(NS_SM, 'r', (session) => {
    const s = smOf(session);
    if (!s) return notEnabled(session);
    session.send(sm('a', { h: String(s.inbound) }));
  });

  core.handleNonza(NS_SM, 'a', (session, el) => {
    const s = smOf(session);
    if (!s) return notEnabled(session);
    const h = parseH(el.attrs.h);
    const mark = s.marks.shift();
    if (h === null) {
      core.log.debug({ session: session.id, a: el.toString() }, 'ignoring an <a/> without a valid h');
      return;
    }
    const check = s.out.check(h);
    if (check.kind === 'too-high') {
      return session.close(new StreamError('undefined-condition', `h=${h} acknowledges more than the ${s.out.sent} stanzas sent`, tooHigh(h, s.out)));
    }
    if (check.kind === 'ok') s.out.ack(check.count);
    // A low h is tolerated, never an error (the QuickBlox SDK's count skips the messages it
    // receives). A client that cannot resume is trusted that far: answering our <r/> shows it read
    // everything sent before it, since the stream is ordered. (Not for resumable clients, whose
    // unsolicited <a/> — sent before closing, say — could cross our <r/>.)
    if (!s.id && mark !== undefined) {
      const upTo = s.out.check(mark);
      if (upTo.kind === 'ok') s.out.ack(upTo.count);
    }
  });

  // --- dropped connections and resumption ---

  core.keepOnConnectionLoss((session) => {
    const s = smOf(session);
    if (!s?.id || s.overflowing) return false;
    if (!s.resuming) {
      s.expiry = setTimeout(() => {
        if (!s.resuming) session.close();
      }, s.max * 1000);
      s.expiry.unref();
    }
    return true;
  });

  core.handleNonza(NS_SM, 'resume', async (session, el) => {
    if (session.state !== 'authenticated') return failed(session, 'unexpected-request');
    const previd = el.attrs.previd ?? '';
    const h = parseH(el.attrs.h);
    if (h === null) return failed(session, 'bad-request');
    const old = resumable.find(previd, session);
    const s = old && smOf(old);
    if (!old || !s || ended(old) || s.resuming) return failed(session, 'item-not-found', resumable.endedH(previd, session));
    if (s.out.check(h).kind === 'too-high') {
      failed(session, 'undefined-condition', s.inbound, tooHigh(h, s.out));
      return old.close();
    }
    s.resuming = true;
    if (s.expiry) clearTimeout(s.expiry);
    try {
      // Stop reading the old connection, then let what it delivered finish: `h` must cover it.
      if (!old.detached) old.connection.close();
      await old.idle();
    } finally {
      s.resuming = false;
    }
    if (s.expiry) clearTimeout(s.expiry);
    if (ended(old)) return failed(session, 'item-not-found', resumable.endedH(previd, session));
    const check = s.out.check(h);
    if (check.kind === 'ok') s.out.ack(check.count);
    session.handOver(old);
    s.marks = [];
    s.sinceRequest = 0;
    old.send(sm('resumed', { h: String(s.inbound), previd }));
    // Resent as they were, with their sequence numbers: they are counted already.
    for (const item of s.out.pending()) old.connection.send(item.stanza);
    if (s.out.length > 0) requestAck(old, s);
    core.log.debug({ session: old.id, resent: s.out.length, h: s.inbound }, 'stream resumed');
  });

  // --- the end of a session ---

  core.hooks.on(
    'presence/broadcast',
    ({ stanza, origin }: RouteContext) => {
      if (origin && stanza.attrs.type === undefined && !origin.available) availableSince.set(origin, Date.now());
      return undefined;
    },
    100,
  );

  // While a session's unacknowledged messages are being routed again, later messages for that user
  // wait, so that none overtakes them (into offline storage, say).
  const settling = new Map<string, Promise<void>>();
  const resettled = new WeakSet<Element>();

  core.hooks.on(
    'session/closed',
    async ({ session }: { session: C2sSession }) => {
      const s = smOf(session);
      if (!s) return;
      if (s.requestTimer) clearTimeout(s.requestTimer);
      if (s.expiry) clearTimeout(s.expiry);
      if (s.id) resumable.end(s.id, session, s.inbound);
      const items = s.out.takeAll();
      if (items.length === 0) return;
      for (const item of items) resettled.add(item.stanza);
      const bare = session.jid!.bare;
      const done = (settling.get(bare) ?? Promise.resolve()).then(() => settleUndelivered(core, items, (other) => availableSince.get(other)));
      settling.set(bare, done);
      try {
        await done;
      } finally {
        if (settling.get(bare) === done) settling.delete(bare);
      }
    },
    100, // first: later messages must find the settlement registered
  );

  // A new session's stored messages are delivered once the settlement has put them there.
  core.hooks.on(
    'presence/initial',
    ({ session }: { session: C2sSession }) => settling.get(session.jid!.bare)?.then(() => undefined),
    100,
  );

  core.hooks.on(
    'message/bare',
    ({ stanza, to }: RouteContext) => {
      const pending = settling.get(to.bare);
      return pending && !resettled.has(stanza) ? pending.then(() => undefined) : undefined;
    },
    100,
  );
}
