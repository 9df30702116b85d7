// Stream-management resumption on another node. A client whose connection to node A dropped
// resumes on node B; B asks A for the session over the nodes' pub/sub channels:
//
//   B → A  sm/take   {previd, owner, h}      A freezes the session, waits until it is idle, acks h
//   A → B  sm/state  MovedSession            B registers the resource as its own, binds, <resumed/>,
//                                            resends; stanzas for the session wait on B
//   B → A  sm/taken                          after B's registration: whatever A still got for the
//   A → B  sm/rest   {extras}                session follows, and A drops it silently; B sends the
//                                            extras, then what waited (so nothing overtakes them)
//   A → B  sm/fail   {h, tooHigh}            no such session (or h too high): <failed/>
//   B → A  sm/refuse                         B gave up meanwhile: the session stays resumable on A
//
// The envelope's `to` carries B's request id. A stanza sent to A before B registered reaches A's
// channel before B's sm/taken (Redis orders one node's channel), so it is among the extras.
// B fails the resumption when A does not answer within HANDOFF_TIMEOUT_MS or nobody listens on A's
// channel (A is dead); the client then logs in afresh and finds what A had stored offline.
import { randomBytes } from 'node:crypto';
import type { ModuleApi } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { Cluster, Envelope } from '../../cluster/types.js';
import type { ClusterHandlers } from '../cluster-routing/index.js';
import { readMovedSession, ownerOf, type MovedSession, type RemoteResume, type StreamManagement } from '../stream-management/index.js';
import { parseElement } from '../../xml/stream-parser.js';
import { MAX_RESUMPTION_ID, nodeOfId, resumptionId } from './ids.js';

export const HANDOFF_TIMEOUT_MS = 5000;

interface Asking {
  session: C2sSession;
  previd: string;
  settle(result: RemoteResume): void;
}

interface Waiting {
  session: C2sSession;
  timer: NodeJS.Timeout;
}

const u32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;

function parseBody(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function clusterResumptionModule(core: ModuleApi, cluster: Cluster, routing: ClusterHandlers, sm: StreamManagement): void {
  const self = cluster.nodeId;
  /** On the new node: resumptions waiting for the old node, by request id. */
  const asking = new Map<string, Asking>();
  /** On the old node: sessions sent to a new node, until it says it took them ("node request"). */
  const releasing = new Map<string, Waiting>();
  /** On the new node: adopted sessions waiting for the old node's last stanzas ("node request"). */
  const adopted = new Map<string, Waiting>();

  const send = (node: string, kind: string, request: string, body: unknown): Promise<boolean> =>
    cluster.publish(node, { kind, to: request, stanza: JSON.stringify(body) });
  const bareOf = (session: C2sSession): string => `${session.user!.userId}-${session.user!.appId}@${core.domain}`;

  const answer = (request: string, result: RemoteResume): void => {
    const a = asking.get(request);
    if (!a) return;
    asking.delete(request);
    a.settle(result);
  };

  sm.elsewhere = {
    newId: (random) => resumptionId(random, self),
    async resume(session, previd, h) {
      if (previd.length > MAX_RESUMPTION_ID) return { kind: 'not-elsewhere' };
      const node = (await cluster.resumableAt(previd)) ?? nodeOfId(previd);
      if (!node || node === self) return { kind: 'not-elsewhere' };
      const request = randomBytes(8).toString('hex');
      const result = new Promise<RemoteResume>((settle) => asking.set(request, { session, previd, settle }));
      const timer = setTimeout(() => answer(request, { kind: 'failed' }), HANDOFF_TIMEOUT_MS);
      try {
        if (!(await send(node, 'sm/take', request, { previd, owner: ownerOf(session), h }))) answer(request, { kind: 'failed' });
      } catch (err) {
        core.log.warn({ err }, 'asking another node for a stream to resume failed');
        answer(request, { kind: 'failed' });
      }
      const outcome = await result;
      clearTimeout(timer);
      return outcome;
    },
  };

  // --- on the node that held the session ---

  const onTake = async ({ to: request, stanza, node }: Envelope): Promise<void> => {
    const body = parseBody(stanza);
    const { previd, owner, h } = body ?? {};
    if (!node || typeof previd !== 'string' || typeof owner !== 'string' || !u32(h)) return;
    const released = await sm.release(previd, owner, h);
    if (!released.ok) {
      await send(node, 'sm/fail', request, { h: released.h ?? null, tooHigh: released.tooHigh ?? null });
      return;
    }
    const key = `${node} ${request}`;
    // The new node never confirmed (it died, say): the session ends here as any session does.
    const timer = setTimeout(() => {
      releasing.delete(key);
      released.session.close();
    }, HANDOFF_TIMEOUT_MS * 2);
    timer.unref();
    releasing.set(key, { session: released.session, timer });
    if (!(await send(node, 'sm/state', request, released.moved))) keepHere(key);
  };

  /** The new node did not take the session: resumable here again, and registered as this node's. */
  const keepHere = (key: string): void => {
    const entry = releasing.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    releasing.delete(key);
    const { session } = entry;
    sm.keep(session);
    if (session.state === 'bound' && session.jid) {
      const state = { available: session.available, priority: session.priority, presence: session.available ? session.presence?.toString() ?? null : null };
      cluster.register(session.jid.bare, session.jid.resource, state).catch((err) => core.log.warn({ err }, 'registering a kept session failed'));
    }
  };

  const onTaken = async ({ to: request, node }: Envelope): Promise<void> => {
    if (!node) return;
    const key = `${node} ${request}`;
    const entry = releasing.get(key);
    if (!entry) {
      await send(node, 'sm/rest', request, { extras: [] });
      return;
    }
    clearTimeout(entry.timer);
    releasing.delete(key);
    await send(node, 'sm/rest', request, { extras: sm.finish(entry.session) });
  };

  // --- on the node the client resumes on ---

  const onState = async ({ to: request, stanza, node }: Envelope): Promise<void> => {
    if (!node) return;
    const a = asking.get(request);
    const moved = readMovedSession(parseBody(stanza));
    if (!a || !moved || a.session.state !== 'authenticated') {
      if (a) answer(request, { kind: 'failed' });
      if (!moved) core.log.warn({ node }, 'unreadable session state from another node');
      await send(node, 'sm/refuse', request, {});
      return;
    }
    asking.delete(request);
    const { session, previd } = a;
    const bare = bareOf(session);
    // Registered before binding: the resource is claimed from the old node without a conflict.
    const presence = moved.available ? moved.presence : null;
    await cluster.register(bare, moved.resource, { available: moved.available, priority: moved.priority, presence });
    if (!(await sm.adopt(session, moved, previd))) {
      await cluster.unregister(bare, moved.resource);
      a.settle({ kind: 'failed' });
      await send(node, 'sm/refuse', request, {});
      return;
    }
    a.settle({ kind: 'resumed' });
    await cluster.placeResumable(previd, self);
    const key = `${node} ${request}`;
    const timer = setTimeout(() => admit(key, []), HANDOFF_TIMEOUT_MS);
    timer.unref();
    adopted.set(key, { session, timer });
    if (!(await send(node, 'sm/taken', request, {}))) admit(key, []);
    await announceMove(bare, moved);
  };

  // Nodes holding the user's other resources learnt from its presence where this one was; its
  // presence from here tells them where it is now (for copies of bare-JID messages).
  const announceMove = async (bare: string, moved: MovedSession): Promise<void> => {
    const presence = moved.available && moved.presence ? parseElement(moved.presence) : null;
    if (!presence) return;
    presence.attrs.to = bare;
    const others = (await cluster.locate(bare)).filter((l) => l.available && l.node !== self).map((l) => l.node);
    await Promise.all([...new Set(others)].map((n) => cluster.publish(n, { kind: 'presence/to', to: bare, stanza: presence.toString() })));
  };

  const admit = (key: string, extras: string[]): void => {
    const entry = adopted.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    adopted.delete(key);
    sm.admit(entry.session, extras);
  };

  const onRest = ({ to: request, stanza, node }: Envelope): void => {
    const extras = parseBody(stanza)?.extras;
    const list = Array.isArray(extras) ? extras.filter((e): e is string => typeof e === 'string') : [];
    admit(`${node} ${request}`, list);
  };

  const onFail = ({ to: request, stanza }: Envelope): void => {
    const body = parseBody(stanza) ?? {};
    const h = u32(body.h) ? body.h : undefined;
    const tooHigh = body.tooHigh as { h?: unknown; sent?: unknown } | null | undefined;
    answer(request, { kind: 'failed', h, tooHigh: tooHigh && u32(tooHigh.h) && u32(tooHigh.sent) ? { h: tooHigh.h, sent: tooHigh.sent } : undefined });
  };

  // sm/take waits for the old session to go idle: not in the arrival-order chain, which it could hold up.
  routing.handle('sm/take', (envelope) => {
    onTake(envelope).catch((err) => core.log.error({ err }, 'releasing a session to another node failed'));
  });
  routing.handle('sm/state', onState);
  routing.handle('sm/taken', onTaken);
  routing.handle('sm/rest', onRest);
  routing.handle('sm/fail', onFail);
  routing.handle('sm/refuse', ({ to: request, node }) => keepHere(`${node} ${request}`));
}
