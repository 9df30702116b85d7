// Stream management (XEP-0198): stanza acknowledgements and stream resumption, built from the
// module API: a stream feature, nonza handlers (<enable/>, <resume/>, <r/>, <a/>), an outgoing
// filter that counts and keeps what the client has not acknowledged, a delivery tracker, the
// 'c2s/element' hook to count what the client sent, and the core's keep-on-connection-loss and
// handOver capabilities to hold a dropped session and move it onto the resuming connection.
//
// A session can also move to another node of a cluster (`StreamManagement` below; the protocol
// between the nodes is modules/cluster-resumption): the old node releases it, the new one adopts it.
//
// Durability: the inbound count `h` is only reported (<a/>, <resumed/>) once every stanza before
// it has been processed — routing awaits offline storage — because the session processes
// elements in order and resumption first waits for the old session to go idle.
import { metrics } from '../../metrics/index.js';
import { randomBytes } from 'node:crypto';
import type { ModuleApi, RouteContext } from '../../core/api.js';
import { isStanza, type C2sSession } from '../../core/api.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_CLIENT, NS_STANZA_ERRORS } from '../../xmpp/ns.js';
import { StreamError } from '../../xmpp/errors.js';
import { parseElement } from '../../xml/stream-parser.js';
import { add32, OutboundQueue, parseH, type Unacked } from './counters.js';
import { ownerOf, ResumableSessions } from './resumption.js';
import { settleUndelivered } from './undelivered.js';
import type { MovedSession } from './moved.js';

export const NS_SM = 'urn:xmpp:sm:3';
// What cluster resumption needs to move a session between nodes.
export { readMovedSession, type MovedSession } from './moved.js';
export { ownerOf } from './resumption.js';
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
  /** Released to another node: how many of `out` it was given (later ones follow separately). */
  released: number | null;
  /** Adopted from another node: stanzas for the client wait here until the old node's last ones arrived. */
  held: Element[] | null;
}

/** How a remote resumption went (see ResumeElsewhere). */
export type RemoteResume =
  | { kind: 'not-elsewhere' }
  | { kind: 'resumed' }
  | { kind: 'failed'; h?: number; tooHigh?: { h: number; sent: number } };

/** Resumption across nodes, provided by the cluster. */
export interface ResumeElsewhere {
  /** A resumption id made from `random` that names this node. */
  newId(random: string): string;
  /** Resumes `previd` from the node that holds it onto `session`; not-elsewhere when no other node does. */
  resume(session: C2sSession, previd: string, h: number): Promise<RemoteResume>;
}

export type Release = { ok: true; session: C2sSession; moved: MovedSession } | { ok: false; h?: number; tooHigh?: { h: number; sent: number } };

/** What the module offers the cluster to move a session between nodes. */
export interface StreamManagement {
  elsewhere: ResumeElsewhere | null;
  /**
   * On the node holding it: freezes the resumable session `id` of `owner`, closes its connection,
   * waits until what it received is processed and takes `h` as the client's acknowledgement. The
   * session stays here, collecting stanzas, until `finish` or `keep`.
   */
  release(id: string, owner: string, h: number): Promise<Release>;
  /** The new node took it: the stanzas queued since `release`, and the session leaves this node silently. */
  finish(session: C2sSession): string[];
  /** The new node did not take it: resumable here again. */
  keep(session: C2sSession): void;
  /**
   * On the new node: `session` (authenticated, its connection the client's new one) becomes the
   * moved session: bound, answered <resumed/>, sent the unacknowledged stanzas again. Stanzas for
   * it wait until `admit`. False when the connection went meanwhile.
   */
  adopt(session: C2sSession, moved: MovedSession, previd: string): Promise<boolean>;
  /** The old node's last stanzas for the adopted session: sent, then those that waited. */
  admit(session: C2sSession, extras: string[]): void;
}

/** Stanzas sent to a stream-management session and not acknowledged yet (undefined: it has none enabled). */
export const unackedCount = (session: C2sSession): number | undefined => smOf(session)?.out.length;

const ended = (session: C2sSession): boolean => session.state === 'closed';
const smOf = (session: C2sSession): SmState | undefined => session.data.get(STATE) as SmState | undefined;
const sm = (name: string, attrs: Record<string, string> = {}, ...children: Element[]): Element => xml(name, { xmlns: NS_SM, ...attrs }, ...children);

const newState = (id: string | null, max: number, inbound: number, out: OutboundQueue): SmState => ({
  id,
  max,
  inbound,
  out,
  sinceRequest: 0,
  requestTimer: null,
  marks: [],
  expiry: null,
  resuming: false,
  overflowing: false,
  released: null,
  held: null,
});

export function streamManagementModule(core: ModuleApi): StreamManagement {
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
    const random = randomBytes(18).toString('base64url');
    const id = wantsResume ? api.elsewhere?.newId(random) ?? random : null;
    const s = newState(id, asked > 0 ? Math.min(asked, config.sm_resume_timeout) : config.sm_resume_timeout, 0, new OutboundQueue());
    session.data.set(STATE, s);
    if (s.id) resumable.add(s.id, session);
    session.send(sm('enabled', s.id ? { id: s.id, resume: 'true', max: String(s.max) } : {}));
  });

  // --- counting ---

  core.on('c2s/element', 'stream-management', ({ session, element }) => {
    const s = smOf(session);
    if (s && element.attrs.xmlns === NS_CLIENT && isStanza(element)) s.inbound = add32(s.inbound, 1);
    return undefined;
  });

  // Registered last among the filters (see server.ts): it sees what is actually written.
  core.addOutgoingFilter((session, el) => {
    const s = smOf(session);
    if (!s || !isStanza(el)) return el;
    if (s.held) {
      s.held.push(el);
      return null;
    }
    count(session, s, el);
    return el;
  });

  /** Queues a stanza written to the client until it is acknowledged, and asks for acknowledgements. */
  function count(session: C2sSession, s: SmState, el: Element): void {
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
  }

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

  const startExpiry = (session: C2sSession, s: SmState): void => {
    if (s.expiry) clearTimeout(s.expiry);
    s.expiry = setTimeout(() => {
      if (!s.resuming) session.close();
    }, s.max * 1000);
    s.expiry.unref();
  };
  core.keepOnConnectionLoss((session) => {
    const s = smOf(session);
    if (!s?.id || s.overflowing) return false;
    if (!s.resuming) startExpiry(session, s);
    return true;
  });

  core.handleNonza(NS_SM, 'resume', async (session, el) => {
    metrics.smResumeAttempts.inc();
    if (session.state !== 'authenticated') return failed(session, 'unexpected-request');
    const previd = el.attrs.previd ?? '';
    const h = parseH(el.attrs.h);
    if (h === null) return failed(session, 'bad-request');
    const old = resumable.find(previd, session);
    if (!old && api.elsewhere) {
      const remote = await api.elsewhere.resume(session, previd, h);
      if (remote.kind === 'resumed') return;
      if (remote.kind === 'failed') {
        const { tooHigh } = remote;
        if (tooHigh) return failed(session, 'undefined-condition', remote.h, sm('handled-count-too-high', { h: String(tooHigh.h), 'send-count': String(tooHigh.sent) }));
        return failed(session, 'item-not-found', remote.h);
      }
    }
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
    metrics.smResumptions.inc();
    // Resent as they were, with their sequence numbers: they are counted already.
    for (const item of s.out.pending()) old.connection.send(item.stanza);
    if (s.out.length > 0) requestAck(old, s);
    core.log.debug({ session: old.id, resent: s.out.length, h: s.inbound }, 'stream resumed');
  });

  // --- the end of a session ---

  // While a session's unacknowledged messages are being routed again, later messages for that user
  // wait, so that none overtakes them (into offline storage, say).
  const settling = new Map<string, Promise<void>>();

  // An initial presence waits for the settlement of the account's previous session, so what that
  // session left unacknowledged reaches offline storage (and this session's flush) before any of it
  // can go to this session live.
  core.on('presence/broadcast', 'stream-management', ({ stanza, origin }: RouteContext) => {
    if (!origin?.jid || stanza.attrs.type !== undefined || origin.available) return undefined;
    const pending = settling.get(origin.jid.bare);
    if (!pending) return void availableSince.set(origin, Date.now());
    return pending.then(() => void availableSince.set(origin, Date.now()));
  });


  // First of the session/closed handlers: later messages must find the settlement registered.
  core.on('session/closed', 'stream-management', async ({ session }) => {
    const s = smOf(session);
    if (!s) return;
    if (s.requestTimer) clearTimeout(s.requestTimer);
    if (s.expiry) clearTimeout(s.expiry);
    if (s.id) resumable.end(s.id, session, s.inbound);
    const items = [...s.out.takeAll(), ...(s.held ?? []).map((stanza): Unacked => ({ stanza, queuedAt: Date.now() }))];
    s.held = null;
    if (items.length === 0) return;
    await settle(session.jid!.bare, items);
  });

  async function settle(bare: string, items: Unacked[]): Promise<void> {
    const done = (settling.get(bare) ?? Promise.resolve()).then(() => settleUndelivered(core, items, (other) => availableSince.get(other)));
    settling.set(bare, done);
    try {
      await done;
    } finally {
      if (settling.get(bare) === done) settling.delete(bare);
    }
  }

  // A new session's stored messages are delivered once the settlement has put them there.
  core.on('presence/initial', 'stream-management', ({ session }) => settling.get(session.jid!.bare)?.then(() => undefined));

  // The settlement's own messages (redelivery) go through; others wait for it.
  core.on('message/bare', 'settling', ({ to, redelivery }: RouteContext) => {
    const pending = redelivery ? undefined : settling.get(to.bare);
    return pending?.then(() => undefined);
  });

  // A deleted account: what its sessions hold unacknowledged was for it, and goes nowhere.
  core.on('account/deleted', 'stream-management', ({ bare }) => {
    for (const session of core.sessions.resources(bare)) {
      const s = smOf(session);
      if (!s) continue;
      for (const item of s.out.takeAll()) item.outcome?.(false);
      s.held = null;
    }
  });

  // --- moving to another node ---

  const api: StreamManagement = {
    elsewhere: null,

    async release(id, owner, h) {
      const old = resumable.findOwned(id, owner);
      const s = old && smOf(old);
      if (!old || !s || ended(old) || s.resuming) return { ok: false, h: resumable.endedHOwned(id, owner) };
      if (s.out.check(h).kind === 'too-high') {
        const refused: Release = { ok: false, h: s.inbound, tooHigh: { h, sent: s.out.sent } };
        old.close();
        return refused;
      }
      s.resuming = true;
      if (s.expiry) clearTimeout(s.expiry);
      if (!old.detached) old.connection.close();
      await old.idle();
      if (ended(old)) {
        s.resuming = false;
        return { ok: false, h: resumable.endedHOwned(id, owner) };
      }
      const check = s.out.check(h);
      if (check.kind === 'ok') s.out.ack(check.count);
      s.released = s.out.length;
      const moved: MovedSession = {
        resource: old.jid!.resource,
        max: s.max,
        inbound: s.inbound,
        acked: s.out.acked,
        pending: s.out.pending().map((item) => ({ stanza: item.stanza.toString(), queuedAt: item.queuedAt })),
        available: old.available,
        priority: old.priority,
        presence: old.presence?.toString() ?? null,
        carried: core.saveSessionState(old),
      };
      return { ok: true, session: old, moved };
    },

    finish(session) {
      const s = smOf(session);
      if (!s || s.released === null || ended(session)) return [];
      const items = s.out.takeAll();
      const extras = items.slice(s.released).map((item) => item.stanza.toString());
      // Offline messages being flushed: the new node holds them now, and stores them again if its client never confirms them.
      for (const item of items) item.outcome?.(true);
      if (s.requestTimer) clearTimeout(s.requestTimer);
      if (s.expiry) clearTimeout(s.expiry);
      if (s.id) resumable.forget(s.id, session);
      session.migrate();
      return extras;
    },

    keep(session) {
      const s = smOf(session);
      if (!s || s.released === null) return;
      s.released = null;
      s.resuming = false;
      if (ended(session)) return;
      if (session.detached) startExpiry(session, s);
      else session.close();
    },

    async adopt(session, moved, previd) {
      if (session.state !== 'authenticated') return false;
      const out = new OutboundQueue(moved.acked);
      for (const item of moved.pending) {
        const el = parseElement(item.stanza);
        if (el) out.push(el, item.queuedAt);
      }
      const s = newState(previd, moved.max, moved.inbound, out);
      s.held = [];
      await core.restoreSessionState(session, moved.carried);
      if (session.state !== 'authenticated') return false;
      session.available = moved.available;
      session.priority = moved.priority;
      session.presence = moved.presence === null ? null : parseElement(moved.presence);
      session.data.set(STATE, s);
      resumable.add(previd, session);
      session.bind(moved.resource);
      session.send(sm('resumed', { h: String(s.inbound), previd }));
      metrics.smResumptions.inc();
      for (const item of s.out.pending()) session.connection.send(item.stanza);
      if (s.out.length > 0) requestAck(session, s);
      core.log.debug({ session: session.id, resent: s.out.length, h: s.inbound }, 'stream resumed from another node');
      return true;
    },

    admit(session, extras) {
      const s = smOf(session);
      const waiting = [...extras.map(parseElement).filter((el): el is Element => el !== null), ...(s?.held ?? [])];
      if (s) s.held = null;
      if (ended(session)) {
        // Gone before they arrived: they take the path of any undelivered stanza.
        if (waiting.length > 0 && session.jid) void settle(session.jid.bare, waiting.map((stanza) => ({ stanza, queuedAt: Date.now() })));
        return;
      }
      if (!s) return;
      for (const el of waiting) {
        count(session, s, el);
        session.connection.send(el);
      }
    },
  };
  return api;
}

