// Acting on XMPP streams wherever they are in a cluster: ending a user's streams after a password
// change, and the console's list and disconnection of single streams. Three envelope kinds:
//   sessions/reset    to = a bare JID: the receiving node ends that account's streams with <reset/>
//   sessions/app-deleted  to = an application id: the receiving node ends its streams with <not-authorized/>
//   sessions/request  to = a request id, stanza = JSON { op: 'list' | 'close', apps, id }
//   sessions/reply    to = the request id, stanza = JSON: the node's bounded list, or whether it closed
// The receiving node applies the operator's application scope (`apps`) itself, so an operator limited
// to some applications can neither see nor close another application's stream on any node.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Cluster, Envelope } from './cluster/types.js';
import type { Core } from './core/core.js';
import type { C2sSession } from './core/session.js';
import type { ClusterHandlers } from './modules/cluster-routing/index.js';
import { StreamError } from './xmpp/errors.js';
import { parseUserLocal, userLocal, type UserAddress } from './xmpp/jid.js';

const RESET = 'sessions/reset';
const APP_DELETED = 'sessions/app-deleted';
const REQUEST = 'sessions/request';
const REPLY = 'sessions/reply';

/** A node lists at most this many streams (its total is given alongside). */
export const MAX_LISTED_PER_NODE = 500;
/** A node's list reply is cut at this many characters (a listed stream is a few hundred). */
const MAX_REPLY_CHARS = 512 * 1024;
/** How long a request waits for a node's answer (a dead or stalled node must not stall the console). */
export const REPLY_TIMEOUT_MS = 2_000;
/** Requests waiting for answers at once (a bound against a stuck cluster piling them up). */
const MAX_PENDING = 1_000;

export interface SessionView {
  id: string;
  jid: string | null;
  app_id: number | null;
  user_id: number | null;
  state: string;
  available: boolean;
  detached: boolean;
  transport: string;
  secure: boolean;
  remote_address: string;
  last_activity: string;
  node: string;
}

export interface NodeList {
  node: string;
  total: number;
  items: SessionView[];
}

/** Application ids an operator may act on; null: every application. */
export type AppScope = number[] | null;

export interface ClusterSessions {
  /** Plugs the envelope kinds into the cluster's receiver (cluster enabled only). */
  handle(handlers: ClusterHandlers): void;
  /**
   * Ends every stream of the user with <reset/>, on this node at once and on every other node the
   * registry knows (live nodes and those holding a resource of the user); resolves with the number
   * of streams closed here plus the user's resources registered elsewhere. Stream `keep` of this node
   * (the one that changed the password in-band, XEP-0077) stays open.
   */
  reset(user: UserAddress, keep?: string): Promise<number>;
  /** The latest `reset` of the user still under way (what the passwordChanged listener started), if any. */
  resetUnderWay(user: UserAddress): Promise<number> | null;
  /** The user's streams on this node plus the resources the registry knows on other nodes. */
  count(user: UserAddress): Promise<number>;
  /** Ends every stream of application `appId` with <not-authorized/>, here and on every live node; resolves with how many here. */
  endApplication(appId: number): Promise<number>;
  /** Ends this node's streams of the user with <reset/> (every node does it for itself: revocations the CLI recorded); how many. */
  resetHere(user: UserAddress): number;
  /** Ends this node's streams of application `appId` with <not-authorized/>; how many. */
  endApplicationHere(appId: number): number;
  /** This node's streams within `apps` (at most MAX_LISTED_PER_NODE of them). */
  listLocal(apps: AppScope): NodeList;
  /** Every live node's list; nodes that did not answer within REPLY_TIMEOUT_MS are named in `missing`. */
  listAll(apps: AppScope): Promise<{ lists: NodeList[]; missing: string[] }>;
  /** Closes stream `id` on `node` with <policy-violation/> when it is within `apps`: 'closed', 'not-found', or 'no-answer'. */
  close(node: string, id: string, apps: AppScope): Promise<'closed' | 'not-found' | 'no-answer'>;
}

const inScope = (apps: AppScope, appId: number): boolean => apps === null || apps.includes(appId);

const view = (s: C2sSession, node: string): SessionView => ({
  id: s.id,
  jid: s.jid?.toString() ?? null,
  app_id: s.user?.appId ?? null,
  user_id: s.user?.userId ?? null,
  state: s.state,
  available: s.available,
  detached: s.detached,
  transport: s.connection.kind,
  secure: s.connection.secure,
  remote_address: s.connection.remoteAddress,
  last_activity: new Date(s.lastActivity).toISOString(),
  node,
});

export function clusterSessions(core: Core, cluster: Cluster, log: Logger): ClusterSessions {
  const self = cluster.nodeId;
  const pending = new Map<string, { node: string; answer: (text: string | null) => void }>();
  const resetting = new Map<string, Promise<number>>();

  /** Closes this node's streams of `user` (bound or only authenticated, detached included). */
  const endLocal = (appId: number, userId: number, error: StreamError, keep?: string): number => {
    let closed = 0;
    for (const s of [...core.sessions.connections()]) {
      if (s.state === 'closed' || s.user?.appId !== appId || s.user.userId !== userId || s.id === keep) continue;
      s.close(error);
      closed++;
    }
    return closed;
  };

  const endApplicationLocal = (appId: number): number => {
    let closed = 0;
    for (const s of [...core.sessions.connections()]) {
      if (s.state === 'closed' || s.user?.appId !== appId) continue;
      s.close(new StreamError('not-authorized', 'application deleted'));
      closed++;
    }
    return closed;
  };

  const resetEverywhere = async (user: UserAddress, keep?: string): Promise<number> => {
    const closed = endLocal(user.appId, user.userId, new StreamError('reset', 'password changed'), keep);
    if (!cluster.enabled) return closed;
    const bare = `${userLocal(user)}@${core.domain}`;
    const [located, live] = await Promise.all([cluster.locate(bare, { fresh: true }), cluster.liveNodes()]);
    const nodes = new Set([...live, ...located.map((l) => l.node)]);
    nodes.delete(self);
    await Promise.all([...nodes].map((node) => cluster.publish(node, { kind: RESET, to: bare, stanza: '' })));
    return closed + located.filter((l) => l.node !== self).length;
  };

  const listLocal = (apps: AppScope): NodeList => {
    const items: SessionView[] = [];
    let total = 0;
    for (const s of core.sessions.connections()) {
      if (!s.user || s.state === 'closed' || !inScope(apps, s.user.appId)) continue;
      if (++total <= MAX_LISTED_PER_NODE) items.push(view(s, self));
    }
    return { node: self, total, items };
  };

  const closeLocal = (id: string, apps: AppScope): boolean => {
    const session = [...core.sessions.connections()].find((s) => s.id === id);
    if (!session || !session.user || session.state === 'closed' || !inScope(apps, session.user.appId)) return false;
    session.close(new StreamError('policy-violation', 'disconnected by an operator'));
    log.info({ session: session.id, jid: session.jid?.toString() }, 'session disconnected by an operator');
    return true;
  };

  /** Sends a request to `node`; resolves with its answer's text, or null (nobody listened, no answer in time, too many waiting). */
  const ask = (node: string, body: object): Promise<string | null> => {
    if (pending.size >= MAX_PENDING) return Promise.resolve(null);
    const id = randomBytes(8).toString('hex');
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer(null), REPLY_TIMEOUT_MS);
      const answer = (text: string | null): void => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(text);
      };
      pending.set(id, { node, answer });
      cluster.publish(node, { kind: REQUEST, to: id, stanza: JSON.stringify(body) }).then((taken) => { if (!taken) answer(null); }, () => answer(null));
    });
  };

  const receiveRequest = ({ to: id, stanza, node }: Envelope): void => {
    if (!node || node === self || !/^[0-9a-f]{16}$/.test(id) || stanza.length > 64 * 1024) return;
    const request = parseRequest(stanza);
    if (!request) return;
    let reply: string;
    if (request.op === 'list') {
      const list = listLocal(request.apps);
      reply = JSON.stringify(list);
      // Cut to the size bound, keeping the total: the asking node shows fewer rows, never a broken reply.
      while (reply.length > MAX_REPLY_CHARS && list.items.length > 0) {
        list.items = list.items.slice(0, Math.floor(list.items.length / 2));
        reply = JSON.stringify(list);
      }
    } else {
      reply = JSON.stringify({ closed: closeLocal(request.id, request.apps) });
    }
    void cluster.publish(node, { kind: REPLY, to: id, stanza: reply });
  };

  const receiveReply = ({ to: id, stanza, node }: Envelope): void => {
    const waiting = pending.get(id);
    // Only the node asked may answer, once.
    if (!waiting || waiting.node !== node) return;
    waiting.answer(stanza.length <= MAX_REPLY_CHARS ? stanza : null);
  };

  return {
    handle(handlers) {
      handlers.handle(RESET, ({ to }) => {
        const user = userOf(to, core.domain);
        if (user) endLocal(user.appId, user.userId, new StreamError('reset', 'password changed'));
      });
      handlers.handle(APP_DELETED, ({ to }) => {
        if (/^[0-9]{1,15}$/.test(to)) endApplicationLocal(Number(to));
      });
      handlers.handle(REQUEST, receiveRequest);
      handlers.handle(REPLY, receiveReply);
    },

    reset(user, keep) {
      const key = userLocal(user);
      const running = resetEverywhere(user, keep).finally(() => { if (resetting.get(key) === running) resetting.delete(key); });
      resetting.set(key, running);
      return running;
    },

    async endApplication(appId) {
      const closed = endApplicationLocal(appId);
      if (!cluster.enabled) return closed;
      const others = (await cluster.liveNodes()).filter((n) => n !== self);
      await Promise.all(others.map((node) => cluster.publish(node, { kind: APP_DELETED, to: String(appId), stanza: '' })));
      return closed;
    },

    resetHere(user) {
      return endLocal(user.appId, user.userId, new StreamError('reset', 'password changed'));
    },

    endApplicationHere: endApplicationLocal,

    resetUnderWay(user) {
      return resetting.get(userLocal(user)) ?? null;
    },

    async count(user) {
      let here = 0;
      for (const s of core.sessions.connections()) if (s.state !== 'closed' && s.user?.appId === user.appId && s.user.userId === user.userId) here++;
      if (!cluster.enabled) return here;
      const located = await cluster.locate(`${userLocal(user)}@${core.domain}`, { fresh: true });
      return here + located.filter((l) => l.node !== self).length;
    },

    listLocal,

    async listAll(apps) {
      const local = listLocal(apps);
      if (!cluster.enabled) return { lists: [local], missing: [] };
      const others = (await cluster.liveNodes()).filter((n) => n !== self);
      const answers = await Promise.all(others.map(async (node) => ({ node, list: parseList(await ask(node, { op: 'list', apps }), node) })));
      return {
        lists: [local, ...answers.flatMap((a) => (a.list ? [a.list] : []))],
        missing: answers.filter((a) => !a.list).map((a) => a.node),
      };
    },

    async close(node, id, apps) {
      if (node === self) return closeLocal(id, apps) ? 'closed' : 'not-found';
      if (!cluster.enabled || !(await cluster.liveNodes()).includes(node)) return 'not-found';
      const text = await ask(node, { op: 'close', id, apps });
      if (text === null) return 'no-answer';
      try {
        return (JSON.parse(text) as { closed?: unknown }).closed === true ? 'closed' : 'not-found';
      } catch {
        return 'no-answer';
      }
    },
  };
}

function userOf(bare: string, domain: string): UserAddress | null {
  const at = bare.indexOf('@');
  return at > 0 && bare.slice(at + 1) === domain ? parseUserLocal(bare.slice(0, at)) : null;
}

type Request = { op: 'list'; apps: AppScope } | { op: 'close'; id: string; apps: AppScope };

export function parseRequest(text: string): Request | null {
  let body: { op?: unknown; apps?: unknown; id?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const apps = body.apps;
  if (apps !== null && !(Array.isArray(apps) && apps.length <= 10_000 && apps.every((a) => Number.isSafeInteger(a)))) return null;
  if (body.op === 'list') return { op: 'list', apps: apps as AppScope };
  if (body.op === 'close' && typeof body.id === 'string' && /^[0-9a-f]{16}$/.test(body.id)) return { op: 'close', id: body.id, apps: apps as AppScope };
  return null;
}

/** A node's list reply, checked: the node it came from, a count, and at most MAX_LISTED_PER_NODE rows of its own streams. */
export function parseList(text: string | null, node: string): NodeList | null {
  if (text === null) return null;
  try {
    const list = JSON.parse(text) as NodeList;
    if (!Number.isSafeInteger(list.total) || !Array.isArray(list.items) || list.items.length > MAX_LISTED_PER_NODE) return null;
    const items = list.items.filter((s) => typeof s === 'object' && s !== null && typeof s.id === 'string').map((s) => ({ ...s, node }));
    return { node, total: list.total, items };
  } catch {
    return null;
  }
}
