// Direct node-to-node links: envelopes for another node go over a persistent TCP connection to it
// instead of through Redis pub/sub (one write on the sender, one read on the receiver; Redis stays
// the registry and the fallback).
//
// Each node listens on its link port and advertises "host:port" in Redis. A node dials a peer the
// first time it has something for it and sends only on the connection it dialed (the peer answers
// there with acknowledgements only), so two nodes talking both ways hold two connections.
//
// Frames: a 4-byte big-endian length, then that many bytes of UTF-8. Handshake (mutual, HMAC-SHA256
// with the shared cluster secret over both node ids and both nonces; the secret never travels):
//   dialer → "hello\n<dialer id>\n<listener id>\n<dialer nonce>"
//   listener → "challenge\n<listener nonce>\n<listener's proof>"   (refuses a hello for another id)
//   dialer → "proof\n<dialer's proof>"                              (closes on a wrong listener proof)
//   listener → "ok"                                                 (closes on a wrong proof)
// Then the dialer sends batches (envelopes.ts, at most one frame per event-loop turn unless large)
// and the listener answers "ack\n<batches delivered so far>" ACK_DELAY ms after the first batch it
// had not acknowledged (one for all of them), and at once when it stops.
//
// Order across Redis and the link: when something for the peer went through Redis since the last
// batch on the link, the next batch is preceded by "after\n<n>" on the link and a fence
// ("fence", "<dialer nonce>:<n>") published on the peer's channel just before: the peer holds the
// link's batches until that fence came out of Redis (everything published before it did too), or
// FENCE_WAIT passed (the fence was lost: the peer's subscription was down).
//
// A send succeeds at once; what the peer has not acknowledged is kept. When the link drops (the
// peer died, or no acknowledgement came within ACK_TIMEOUT), everything unacknowledged goes back to
// the caller in order (`down`), which sends it again through Redis, where a node that is gone takes
// nothing and the usual fallback applies. Each batch sent again is named by its link session and
// number, and the peer delivers whichever copy arrives first (the link's tail or Redis's), once.
// A peer that dies may have delivered what it had not acknowledged yet (up to ACK_DELAY ms of
// traffic): that may then be delivered a second time, from offline storage — never lost.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { batch, receiveBatch } from './envelopes.js';
import type { Envelope } from './types.js';

/** Largest frame accepted once authenticated (bytes); a batch is cut well before it. */
export const MAX_FRAME = 8 * 1024 * 1024;
/** Largest frame accepted during the handshake. */
const MAX_HANDSHAKE_FRAME = 1024;
/** A batch frame is closed once it holds this many characters. */
const BATCH_CHARS = 256 * 1024;
/** Milliseconds without an acknowledgement of a sent batch after which the link counts as dead. */
const ACK_TIMEOUT = 3000;
/**
 * Milliseconds the listener waits before acknowledging what it took (one acknowledgement for all
 * of it): measured, acknowledging in the same turn cost the receiver a write and the sender a
 * wake-up per batch, about as much as Redis saved.
 */
const ACK_DELAY = 20;
/** Milliseconds a peer holds the link's batches for a fence that does not come out of Redis. */
const FENCE_WAIT = 1000;
/** Milliseconds of silence on an idle link before TCP checks that the peer is still there. */
const KEEPALIVE = 10_000;
/** Milliseconds a handshake may take. */
const HANDSHAKE_TIMEOUT = 5000;
/** Characters of envelopes sent but unacknowledged, or waiting for the socket, beyond which the link is dropped (Redis takes over). */
const MAX_PENDING_CHARS = 16 * 1024 * 1024;
/** Handshakes in progress on the listener at once; more connections are closed at once. */
const MAX_HANDSHAKES = 64;
/** Milliseconds an inbound link session is remembered after it closed (its batches may come again through Redis meanwhile). */
const SESSION_MEMORY = 60_000;
/** Milliseconds before dialing a peer again after a failure (doubling up to the second). */
const RETRY_MIN = 500;
const RETRY_MAX = 30_000;

export interface NodeLinksOptions {
  nodeId: string;
  secret: string;
  /** Address the listener binds to. */
  bind: string;
  /** Port the listener binds to; 0 = a free one. */
  port: number;
  /** Host other nodes dial (the bind address when null). */
  advertise: string | null;
  /** Publishes the fence `token` on `node`'s Redis channel (after everything published there so far). */
  fence(node: string, token: string): void;
  /** The address a peer advertised ("host:port"), or null. */
  addressOf(node: string): Promise<string | null>;
  /**
   * What was sent to `node` and not acknowledged when the link dropped, in order: batches the peer
   * may have taken already (`again` names each: the peer takes one at most once, whichever way it
   * comes), then envelopes that never left.
   */
  down(node: string, batches: { again: string; envelopes: Envelope[] }[], unsent: Envelope[]): void;
  log: Logger;
}

const proof = (secret: string, role: 'dialer' | 'listener', dialer: string, listener: string, dialerNonce: string, listenerNonce: string): Buffer =>
  createHmac('sha256', secret).update(`parley-link\n${role}\n${dialer}\n${listener}\n${dialerNonce}\n${listenerNonce}`).digest();

const sameProof = (expected: Buffer, hex: string): boolean => {
  const given = Buffer.from(hex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

function frame(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(4 + length);
  out.writeUInt32BE(length, 0);
  out.write(text, 4, 'utf8');
  return out;
}

/** Cuts a byte stream into frames; calls `onFrame` for each, `onError` once for an oversized one. */
class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(
    public limit: number,
    private readonly onFrame: (text: string) => void,
    private readonly onError: (why: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size >= 4) {
      const head = this.chunks.length === 1 ? this.chunks[0]! : this.join();
      const length = head.readUInt32BE(0);
      if (length > this.limit) return this.onError(`a frame of ${length} bytes (at most ${this.limit})`);
      if (this.size < 4 + length) return;
      const whole = this.chunks.length === 1 ? head : this.join();
      const text = whole.toString('utf8', 4, 4 + length);
      const rest = whole.subarray(4 + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
      this.onFrame(text);
    }
  }

  private join(): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    this.chunks = [all];
    return all;
  }
}

/** What this node remembers of a connection a peer dialed (see NodeLinks.taken). */
interface InboundSession {
  last: number;
  closed: number;
  fence: number;
  release?: () => void;
}

/** The connection this node dialed to one peer, and what it sent there. */
class OutLink {
  state: 'connecting' | 'up' | 'down' = 'connecting';
  socket: Socket | null = null;
  /** Envelopes of this event-loop turn, not yet framed. */
  queue: Envelope[] = [];
  scheduled = false;
  /** Sent batches not acknowledged yet, oldest first, with when each left. */
  unacked: { envelopes: Envelope[]; chars: number; at: number; seq: number }[] = [];
  /** Names this connection to the peer (the dialer's nonce), with `sent` numbering its batches. */
  session = '';
  pendingChars = 0;
  sent = 0;
  acked = 0;
  retryAt = 0;
  retryDelay = RETRY_MIN;
  /** Something for the peer went through Redis since the last batch on the link: the next one waits for a fence. */
  fenceNeeded = true;
  fences = 0;
  /** The fence the next frame names (0: none). */
  after = 0;
  /** The peer left the cluster: this entry goes once its connection is closed. */
  forgotten = false;
  constructor(readonly node: string) {}
}

export class NodeLinks {
  private readonly opts: NodeLinksOptions;
  private server: Server | null = null;
  private readonly out = new Map<string, OutLink>();
  /** Connections peers dialed, each with what acknowledges at once everything it took. */
  private readonly inbound = new Map<Socket, () => void>();
  private handshakes = 0;
  /**
   * Inbound link sessions (`<peer>\n<dialer nonce>`): the last batch delivered, when the connection
   * closed (0: open), the last fence that came out of Redis, and what releases the batches held for one.
   */
  private readonly taken = new Map<string, InboundSession>();
  private receive: (envelope: Envelope) => void = () => {};
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** "host:port" others dial, once listening. */
  address = '';

  constructor(opts: NodeLinksOptions) {
    this.opts = opts;
  }

  /** Listens for peers; resolves with the address to advertise. */
  async listen(receive: (envelope: Envelope) => void): Promise<string> {
    this.receive = receive;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.log.warn({ err }, 'cluster link listener error'));
    const port = (server.address() as { port: number }).port;
    const host = this.opts.advertise ?? this.opts.bind;
    this.address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.timer = setInterval(() => this.checkAcks(), 1000);
    this.timer.unref();
    return this.address;
  }

  /**
   * Queues an envelope for `node` when a link to it is up (sent at the end of this event-loop turn,
   * with the others of the turn); false when not, or when `usable` is false (the caller sends it
   * through Redis). Dials the peer in the background when there is no link yet.
   */
  send(node: string, envelope: Envelope, usable = true): boolean {
    if (this.closed) return false;
    let link = this.out.get(node);
    if (!link) {
      this.out.set(node, (link = new OutLink(node)));
      void this.dial(link);
      return false;
    }
    if (link.state !== 'up') {
      link.fenceNeeded = true;
      if (link.state === 'down' && Date.now() >= link.retryAt) void this.dial(link);
      return false;
    }
    if (!usable) {
      link.fenceNeeded = true;
      return false;
    }
    if (link.fenceNeeded) {
      link.fenceNeeded = false;
      link.after = ++link.fences;
      this.opts.fence(node, `${link.session}:${link.after}`);
    }
    link.queue.push(envelope);
    if (!link.scheduled) {
      link.scheduled = true;
      setImmediate(() => this.flush(link));
    }
    return true;
  }

  /**
   * `node` left the cluster (its registry entries were reaped): its entry goes once its connection
   * is closed — at once when down, or when idle — so that peers that come and go leave nothing behind.
   */
  forget(node: string): void {
    const link = this.out.get(node);
    if (!link) return;
    link.forgotten = true;
    if (link.state === 'down') this.out.delete(node);
    else if (link.state === 'up' && link.unacked.length === 0 && link.queue.length === 0) link.socket?.end();
  }

  /** Whether a link to `node` is up (envelopes sent now would take it). */
  up(node: string): boolean {
    return this.out.get(node)?.state === 'up';
  }

  private flush(link: OutLink): void {
    link.scheduled = false;
    if (link.state !== 'up' || link.queue.length === 0) return;
    const socket = link.socket!;
    const envelopes = link.queue;
    link.queue = [];
    let from = 0;
    let chars = 0;
    const now = Date.now();
    if (link.after > 0) {
      socket.write(frame(`after\n${link.after}`));
      link.after = 0;
    }
    const cut = (to: number): void => {
      const part = from === 0 && to === envelopes.length ? envelopes : envelopes.slice(from, to);
      const text = batch(part, this.opts.nodeId);
      link.unacked.push({ envelopes: part, chars: text.length, at: now, seq: link.sent });
      link.pendingChars += text.length;
      link.sent++;
      socket.write(frame(text));
      from = to;
      chars = 0;
    };
    for (let i = 0; i < envelopes.length; i++) {
      chars += envelopes[i]!.stanza.length + envelopes[i]!.to.length + 32;
      if (chars >= BATCH_CHARS) cut(i + 1);
    }
    if (from < envelopes.length) cut(envelopes.length);
    if (link.pendingChars + socket.writableLength > MAX_PENDING_CHARS) {
      this.opts.log.warn({ node: link.node, pending: link.pendingChars }, 'cluster link to a node fell too far behind; using Redis');
      socket.destroy();
    }
  }

  private async dial(link: OutLink): Promise<void> {
    link.state = 'connecting';
    const { nodeId, secret, log } = this.opts;
    let address: string | null = null;
    try {
      address = await this.opts.addressOf(link.node);
    } catch (err) {
      log.warn({ err, node: link.node }, 'looking up a cluster link address failed');
    }
    const match = address ? /^\[?([^\]]*)\]?:(\d+)$/.exec(address) : null;
    if (!match || this.closed) return this.failed(link, address ? 'unreadable address' : null);
    const socket = connect({ host: match[1]!, port: Number(match[2]) });
    socket.setNoDelay(true);
    // A peer whose machine vanished while the link was idle: the connection closes in time.
    socket.setKeepAlive(true, KEEPALIVE);
    link.socket = socket;
    const nonce = randomBytes(16).toString('hex');
    link.session = nonce;
    link.sent = link.acked = 0;
    let listenerNonce = '';
    let step: 'challenge' | 'ok' | 'up' = 'challenge';
    const timeout = setTimeout(() => socket.destroy(new Error('handshake timed out')), HANDSHAKE_TIMEOUT);
    const reader = new FrameReader(
      MAX_HANDSHAKE_FRAME,
      (text) => {
        if (step === 'up') return this.acknowledged(link, text);
        const lines = text.split('\n');
        if (step === 'challenge') {
          if (lines[0] !== 'challenge' || lines.length !== 3) return void socket.destroy(new Error('unexpected handshake'));
          listenerNonce = lines[1]!;
          if (!sameProof(proof(secret, 'listener', nodeId, link.node, nonce, listenerNonce), lines[2]!)) {
            return void socket.destroy(new Error('the peer does not know the cluster secret'));
          }
          socket.write(frame(`proof\n${proof(secret, 'dialer', nodeId, link.node, nonce, listenerNonce).toString('hex')}`));
          step = 'ok';
        } else if (text === 'ok') {
          clearTimeout(timeout);
          step = 'up';
          link.state = 'up';
          link.retryDelay = RETRY_MIN;
          log.info({ node: link.node, address }, 'cluster link up');
        } else socket.destroy(new Error('unexpected handshake'));
      },
      (why) => socket.destroy(new Error(why)),
    );
    socket.on('data', (chunk) => reader.push(chunk));
    socket.on('error', (err) => {
      if (step !== 'up') log.warn({ node: link.node, address, reason: err.message }, 'cluster link refused or failed');
      else log.warn({ node: link.node, reason: err.message }, 'cluster link failed');
    });
    socket.on('close', () => {
      clearTimeout(timeout);
      if (link.socket === socket) this.dropped(link);
    });
    socket.write(frame(`hello\n${nodeId}\n${link.node}\n${nonce}`));
  }

  private failed(link: OutLink, why: string | null): void {
    link.state = 'down';
    link.socket = null;
    link.fenceNeeded = true;
    link.after = 0;
    if (link.forgotten && this.out.get(link.node) === link) this.out.delete(link.node);
    // A peer without a link (not advertised) is asked again only now and then.
    link.retryAt = Date.now() + (why === null ? RETRY_MAX : link.retryDelay);
    link.retryDelay = Math.min(RETRY_MAX, link.retryDelay * 2);
  }

  /** The link's connection closed: what the peer did not acknowledge goes back to the caller. */
  private dropped(link: OutLink): void {
    const wasUp = link.state === 'up';
    this.failed(link, 'closed');
    const batches = link.unacked.map((b) => ({ again: `${link.session}:${b.seq}`, envelopes: b.envelopes }));
    const unsent = link.queue;
    link.unacked = [];
    link.queue = [];
    link.pendingChars = 0;
    if (wasUp) this.opts.log.warn({ node: link.node, unacknowledged: batches.length, unsent: unsent.length }, 'cluster link down; using Redis');
    if ((batches.length > 0 || unsent.length > 0) && !this.closed) this.opts.down(link.node, batches, unsent);
  }

  private acknowledged(link: OutLink, text: string): void {
    const count = text.startsWith('ack\n') ? Number(text.slice(4)) : NaN;
    if (!Number.isSafeInteger(count) || count < link.acked || count > link.sent) {
      return void link.socket?.destroy(new Error('bad acknowledgement'));
    }
    for (let n = link.acked; n < count; n++) link.pendingChars -= link.unacked.shift()!.chars;
    link.acked = count;
  }

  /**
   * Whether batch `seq` of a link session (`<peer>\n<nonce>`) is new here: batches come in order
   * over the link and, after it dropped, again in order through Redis, and whichever copy comes
   * first is the one delivered.
   */
  private first(session: string, seq: number): boolean {
    const taken = this.taken.get(session);
    if (!taken) return true;
    if (seq <= taken.last) return false;
    taken.last = seq;
    return true;
  }

  /** A batch a peer sent again through Redis after its link to this node dropped ("<nonce>:<seq>"): false when the link brought it already. */
  takeAgain(peer: string, again: string): boolean {
    const colon = again.indexOf(':');
    return this.first(`${peer}\n${again.slice(0, colon)}`, Number(again.slice(colon + 1)));
  }

  /** A fence a peer published on this node's channel ("<nonce>:<n>") came out of Redis: the link's batches held for it go. */
  fenced(peer: string, token: string): void {
    const colon = token.indexOf(':');
    const n = Number(token.slice(colon + 1));
    const taken = this.taken.get(`${peer}\n${token.slice(0, colon)}`);
    if (!taken || !Number.isSafeInteger(n) || n <= taken.fence) return;
    taken.fence = n;
    taken.release?.();
  }

  /** A link whose oldest unacknowledged batch is too old is taken for dead. */
  private checkAcks(): void {
    const now = Date.now();
    for (const [session, taken] of this.taken) if (taken.closed > 0 && now - taken.closed > SESSION_MEMORY) this.taken.delete(session);
    for (const link of this.out.values()) {
      const oldest = link.unacked[0];
      if (link.state === 'up' && oldest && now - oldest.at > ACK_TIMEOUT) link.socket?.destroy(new Error('no acknowledgement'));
    }
  }

  /** A peer dialed this node. */
  private accept(socket: Socket): void {
    if (this.closed || this.handshakes >= MAX_HANDSHAKES) return void socket.destroy();
    this.handshakes++;
    socket.setNoDelay(true);
    const { nodeId, secret, log } = this.opts;
    let peer = '';
    let dialerNonce = '';
    let nonce = '';
    let step: 'hello' | 'proof' | 'up' = 'hello';
    let received = 0;
    /** Batches delivered (what acknowledgements count: a batch held for a fence is not acknowledged yet). */
    let delivered = 0;
    let session = '';
    let inbound: InboundSession | null = null;
    let acking = false;
    /** Batches that came after an "after" frame whose fence has not come out of Redis yet (with their numbers). */
    let held: { seq: number; text: string }[] | null = null;
    let waitingFor = 0;
    let holdTimer: NodeJS.Timeout | null = null;
    const sendAck = (): void => {
      if (!acking) return;
      acking = false;
      if (!socket.destroyed && !this.closed) socket.write(frame(`ack\n${delivered}`));
    };
    this.inbound.set(socket, () => {
      if (acking && !socket.destroyed) socket.write(frame(`ack\n${delivered}`));
      acking = false;
    });
    const deliver = (seq: number, text: string): boolean => {
      if (this.first(session, seq) && !receiveBatch(text, this.receive, peer)) return false;
      delivered++;
      if (!acking) {
        acking = true;
        setTimeout(sendAck, ACK_DELAY);
      }
      return true;
    };
    const release = (): void => {
      if (!held || (inbound!.fence < waitingFor && holdTimer !== null)) return;
      if (holdTimer) clearTimeout(holdTimer);
      holdTimer = null;
      const batches = held;
      held = null;
      inbound!.release = undefined;
      if (this.closed) return;
      for (const { seq, text } of batches) if (!deliver(seq, text)) return void socket.destroy(new Error('not a batch'));
    };
    const handshakeDone = (): void => {
      clearTimeout(timeout);
      this.handshakes--;
    };
    const timeout = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT);
    const reader = new FrameReader(
      MAX_HANDSHAKE_FRAME,
      (text) => {
        if (step === 'up') {
          if (this.closed) return;
          if (text.startsWith('after\n')) {
            const n = Number(text.slice(6));
            if (!Number.isSafeInteger(n) || n <= 0) return void socket.destroy(new Error('bad fence'));
            if (n <= inbound!.fence) return;
            waitingFor = n;
            if (!held) {
              held = [];
              inbound!.release = release;
              holdTimer = setTimeout(() => {
                log.warn({ node: peer }, 'a fence from a cluster peer did not come out of Redis in time; delivering what its link brought');
                holdTimer = null;
                release();
              }, FENCE_WAIT);
            }
            return;
          }
          const seq = received++;
          if (held) return void held.push({ seq, text });
          if (!deliver(seq, text)) return void socket.destroy(new Error('not a batch'));
          return;
        }
        const lines = text.split('\n');
        if (step === 'hello') {
          if (lines[0] !== 'hello' || lines.length !== 4 || lines[2] !== nodeId || !lines[1] || !/^[0-9a-f]{32}$/.test(lines[3]!)) {
            return void socket.destroy(new Error('unexpected hello'));
          }
          peer = lines[1];
          dialerNonce = lines[3]!;
          nonce = randomBytes(16).toString('hex');
          socket.write(frame(`challenge\n${nonce}\n${proof(secret, 'listener', peer, nodeId, dialerNonce, nonce).toString('hex')}`));
          step = 'proof';
        } else if (lines[0] === 'proof' && lines.length === 2 && sameProof(proof(secret, 'dialer', peer, nodeId, dialerNonce, nonce), lines[1]!)) {
          handshakeDone();
          step = 'up';
          session = `${peer}\n${dialerNonce}`;
          inbound = { last: -1, closed: 0, fence: 0 };
          this.taken.set(session, inbound);
          reader.limit = MAX_FRAME;
          socket.write(frame('ok'));
        } else {
          log.warn({ node: peer, remote: socket.remoteAddress }, 'refused a cluster link: wrong proof of the cluster secret');
          socket.destroy();
        }
      },
      (why) => socket.destroy(new Error(why)),
    );
    socket.on('data', (chunk) => reader.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (step !== 'up') handshakeDone();
      this.inbound.delete(socket);
      const taken = this.taken.get(session);
      if (taken) taken.closed = Date.now();
    });
  }

  /**
   * Closes the listener and every link; nothing is handed back. From now on nothing received is
   * delivered or acknowledged; the connections close after `linger` ms (a test's crash lets Redis
   * notice first that the node's subscription went).
   */
  async close(linger = 0): Promise<void> {
    const leaving = linger === 0;
    if (leaving) {
      // Leaving on purpose: the peers learn that everything they sent here was taken (up to a second).
      for (const [socket, acknowledge] of this.inbound) {
        acknowledge();
        socket.end();
      }
      linger = this.inbound.size > 0 ? 1000 : 0;
    }
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const link of this.out.values()) if (leaving) link.socket?.end();
    const until = Date.now() + linger;
    while (Date.now() < until && (!leaving || this.inbound.size > 0)) await new Promise((resolve) => setTimeout(resolve, leaving ? 10 : linger));
    for (const link of this.out.values()) link.socket?.destroy();
    for (const socket of this.inbound.keys()) socket.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
