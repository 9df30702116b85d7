// Routing between cluster nodes. Each node registers its bound resources (with availability,
// priority and current presence) in the cluster; a stanza for a user with no session here is
// published to the node(s) holding one. The local fast path stays: the delivery slots below only
// consult the cluster after local delivery found nobody on this node.
//
// Delivery slots (events.ts): a message for a bare JID with no available resource here goes to the
// nodes holding one before offline storage takes it; when the recipient has resources both here
// and on other nodes (known from their presence, without asking Redis), the others get a copy. For
// full JIDs (message, presence, IQ) the slot comes before local delivery and steps aside when the
// resource is local.
//
// The receiving node enters the delivery phase directly, marked `relayed` (the outbound phase —
// privacy, history, markers, carbons — ran on the sending node). Lookups may answer from the
// cluster's location cache, so a receiving node that finds nobody for a message looks the recipient
// up afresh and forwards it once (`message/forwarded`, never forwarded again) before offline storage
// takes it; a publish that no node took is retried after a fresh lookup.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { Cluster, Envelope, ResourceLocation, ResourceState } from '../../cluster/types.js';
import type { RosterStore } from '../../storage/types.js';
import type { PrivacyModule } from '../privacy/index.js';
import { Element } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { StanzaError, StreamError } from '../../xmpp/errors.js';

/** Delivers an envelope of a kind another module defined (see ClusterHandlers.handle). */
export type EnvelopeHandler = (envelope: Envelope) => void | Promise<void>;

export interface ClusterHandlers {
  receive(envelope: Envelope): void;
  rejoin(): Promise<void>;
  /** Lets another module take envelopes of `kind`, delivered in arrival order with the rest. */
  handle(kind: string, handler: EnvelopeHandler): void;
}

/** Plugs the routing hooks in; returns the receiver and the re-registration to hand to `cluster.start`. */
export function clusterRoutingModule(core: ModuleApi, cluster: Cluster, roster: RosterStore, privacy?: PrivacyModule): ClusterHandlers {
  const self = cluster.nodeId;

  /** Publishes to each node once; true when at least one node took it. */
  const publishTo = async (nodes: Iterable<string>, envelope: Envelope): Promise<boolean> => {
    const results = await Promise.all([...new Set(nodes)].filter((n) => n !== self).map((n) => cluster.publish(n, envelope)));
    return results.some(Boolean);
  };
  const remoteAvailable = (locations: ResourceLocation[]): ResourceLocation[] => locations.filter((l) => l.available && l.node !== self);

  /**
   * Accounts with a session here that also have available resources on other nodes (resource →
   * node), learnt from their presence: a bare-JID message delivered here is copied there without a
   * registry lookup. Accounts with no session here are not tracked.
   */
  const elsewhere = new Map<string, Map<string, string>>();
  const learn = (bare: string, resource: string, node: string | undefined, available: boolean): void => {
    if (!node || node === self) return;
    if (available) {
      if (core.sessions.resources(bare).length === 0) return;
      let resources = elsewhere.get(bare);
      if (!resources) elsewhere.set(bare, (resources = new Map()));
      resources.set(resource, node);
    } else {
      const resources = elsewhere.get(bare);
      resources?.delete(resource);
      if (resources?.size === 0) elsewhere.delete(bare);
    }
  };
  const learnAll = (bare: string, locations: ResourceLocation[]): void => {
    for (const l of remoteAvailable(locations)) learn(bare, l.resource, l.node, true);
  };

  // --- sending: stanzas for users whose sessions are elsewhere ---

  // A bare-JID message delivered here (priority 0) also goes to the account's resources on other nodes.
  core.on('message/bare', 'cluster-copy', async ({ stanza, to, relayed }: RouteContext) => {
    const resources = elsewhere.get(to.bare);
    if (!resources || relayed || stanza.attrs.type === 'groupchat' || core.sessions.available(to.bare).length === 0) return undefined;
    await publishTo(resources.values(), { kind: 'message/copy', to: to.bare, stanza: stanza.toString() });
    return undefined;
  });

  /** Messages another node already forwarded here: if nobody is here either, offline storage takes them. */
  const forwarded = new WeakSet<Element>();
  core.on('message/bare', 'cluster', async ({ stanza, to, relayed }: RouteContext) => {
    if (stanza.attrs.type === 'groupchat' || (relayed && forwarded.has(stanza))) return undefined;
    // Relayed here and nobody here (the sender's cached lookup was stale, or the session just left): ask the registry.
    let targets = remoteAvailable(await cluster.locate(to.bare, { fresh: relayed }));
    if (targets.length === 0) return undefined;
    const envelope: Envelope = { kind: relayed ? 'message/forwarded' : 'message/bare', to: to.bare, stanza: stanza.toString() };
    if (await publishTo(targets.map((t) => t.node), envelope)) return true;
    if (relayed) return undefined;
    // A node gone since the (possibly cached) lookup took nothing: look again, then offline storage.
    targets = remoteAvailable(await cluster.locate(to.bare, { fresh: true }));
    return targets.length > 0 && (await publishTo(targets.map((t) => t.node), envelope)) ? true : undefined;
  });

  /** A stanza for a full JID that is not bound here: to the node that holds it, if any. */
  const toFullJid =
    (kind: string) =>
    async ({ stanza, to, relayed }: RouteContext): Promise<true | undefined> => {
      if (relayed || core.sessions.get(to.bare, to.resource)) return undefined;
      const envelope: Envelope = { kind, to: to.toString(), stanza: stanza.toString() };
      for (const fresh of [false, true]) {
        const target = (await cluster.locate(to.bare, { fresh })).find((l) => l.resource === to.resource && l.node !== self);
        if (!target) return undefined;
        if (await cluster.publish(target.node, envelope)) return true;
      }
      return undefined;
    };
  core.on('message/full', 'cluster', toFullJid('message/full'));
  core.on('presence/full', 'cluster', toFullJid('presence/full'));
  core.on('iq/full', 'cluster', toFullJid('iq/full'));

  // Directed presence to a bare JID: local resources take it through the presence module.
  core.on('presence/bare', 'cluster', async ({ stanza, to, relayed }: RouteContext) => {
    if (relayed || core.sessions.available(to.bare).length > 0) return undefined;
    const targets = remoteAvailable(await cluster.locate(to.bare));
    if (targets.length > 0) await publishTo(targets.map((t) => t.node), { kind: 'presence/bare', to: to.bare, stanza: stanza.toString() });
    return undefined;
  });

  // --- the registry and presence broadcasts ---

  // What each session last announced. Every registration writes the latest state, so however the
  // hooks interleave (session/bound may run after a slow privacy load, past the initial presence),
  // the last write issued carries the current state.
  const states = new WeakMap<C2sSession, ResourceState>();
  // A session that announced nothing through this node yet (a stream resumed from another node)
  // brings its state along in its fields.
  const stateOf = (session: C2sSession): ResourceState => {
    const state = states.get(session) ?? { available: session.available, priority: session.priority, presence: session.available ? session.presence?.toString() ?? null : null };
    // The privacy list active in the session, when not the default: the senders' nodes judge by it.
    const list = privacy?.activeList(session);
    return list === undefined ? state : { ...state, list };
  };
  const register = async (session: C2sSession): Promise<void> => {
    if (session.state === 'closed' || !session.jid) return;
    await cluster.register(session.jid.bare, session.jid.resource, stateOf(session));
  };

  // A session's active privacy list is in the registry before the change is answered; the senders'
  // nodes read it with the resource's location.
  privacy?.onActiveChange(register);
  // A registry that does not answer leaves the judgement to the default list, as before lists travelled.
  privacy?.consultRemote(async (to) => {
    const found = await cluster.locate(to.bare).catch(() => []);
    return found.filter((l) => l.available && l.node !== self && (to.isBare || l.resource === to.resource)).map((l) => l.list);
  });

  // The same full JID bound on another node: as within one node, the newer login wins.
  const replacedRemotely = new WeakSet<C2sSession>();
  core.on('session/bound', 'cluster', async ({ session }) => {
    if (session.state === 'closed' || !session.jid) return undefined;
    const previous = await cluster.claim(session.jid.bare, session.jid.resource, stateOf(session));
    if (previous) await cluster.publish(previous, { kind: 'conflict', to: session.jid.toString(), stanza: '' });
    return undefined;
  });

  /** The presence to the user's own resources and subscribed contacts on other nodes. */
  const broadcastRemote = async (session: C2sSession, presence: Element, contacts: string[]): Promise<void> => {
    const jid = session.jid!;
    const bares = [jid.bare, ...contacts.filter((c) => core.sessions.available(c).length === 0)];
    const where = await cluster.locateMany(bares);
    learnAll(jid.bare, where.get(jid.bare) ?? []);
    const sends: Promise<boolean>[] = [];
    // Addressed as the presence module does locally: to the sender's bare JID.
    const text = withTo(presence, jid.bare).toString();
    for (const [bare, locations] of where) {
      const nodes = new Set(remoteAvailable(locations).map((l) => l.node));
      for (const node of nodes) sends.push(cluster.publish(node, { kind: 'presence/to', to: bare, stanza: text }));
    }
    await Promise.all(sends);
  };

  core.on('presence/broadcast', 'cluster', async ({ stanza, origin }: RouteContext) => {
      const session = origin;
      if (!session?.jid) return undefined;
      const type = stanza.attrs.type;
      if (type !== undefined && type !== 'unavailable') return undefined;
      if (type === 'unavailable' && !session.available) return undefined;
      const initial = type === undefined && !session.available;
      const available = type === undefined;
      states.set(session, {
        available,
        priority: available ? Number.parseInt(stanza.getChildText('priority') ?? '0', 10) || 0 : 0,
        presence: available ? stanza.toString() : null,
      });
      await register(session);
      const items = await roster.getRoster(session.user!.userId);
      const subscribers = items.filter((i) => i.subscription === 'from' || i.subscription === 'both').map((i) => i.jid);
      await broadcastRemote(session, stanza, subscribers);
      if (initial) {
        // The current presence of contacts (and own resources) on other nodes.
        const subscribedTo = items.filter((i) => i.subscription === 'to' || i.subscription === 'both').map((i) => i.jid);
        const where = await cluster.locateMany([session.jid.bare, ...subscribedTo.filter((c) => core.sessions.available(c).length === 0)]);
        learnAll(session.jid.bare, where.get(session.jid.bare) ?? []);
        for (const locations of where.values()) {
          for (const l of remoteAvailable(locations)) {
            const el = l.presence ? parseElement(l.presence) : null;
            if (el) session.send(withTo(el, session.jid.toString()));
          }
        }
      }
      return undefined;
  });

  core.on('session/closed', 'cluster', async ({ session }) => {
      const jid = session.jid!;
      // Replaced by a new login with the same resource, here or on another node: that one speaks for the JID now.
      if (core.sessions.get(jid.bare, jid.resource) || replacedRemotely.has(session)) return undefined;
      if (core.sessions.resources(jid.bare).length === 0) elsewhere.delete(jid.bare);
      await cluster.unregister(jid.bare, jid.resource);
      if (session.available) {
        const items = await roster.getRoster(session.user!.userId);
        const subscribers = items.filter((i) => i.subscription === 'from' || i.subscription === 'both').map((i) => i.jid);
        await broadcastRemote(session, new Element('presence', { type: 'unavailable', from: jid.toString(), to: jid.bare }, []), subscribers);
      }
      return undefined;
  });

  // --- receiving: stanzas other nodes routed here ---

  /** A resource on a node that died: its unavailable presence to the account's resources and subscribed contacts here. */
  const announceGone = async (gone: Jid): Promise<void> => {
    const resources = elsewhere.get(gone.bare);
    resources?.delete(gone.resource);
    if (resources?.size === 0) elsewhere.delete(gone.bare);
    const user = parseUserLocal(gone.local);
    if (!user) return;
    const unavailable = new Element('presence', { type: 'unavailable', from: gone.toString(), to: gone.bare }, []);
    for (const own of core.sessions.available(gone.bare)) own.send(unavailable);
    for (const item of await roster.getRoster(user.userId)) {
      if (item.subscription !== 'from' && item.subscription !== 'both') continue;
      for (const target of core.sessions.available(item.jid)) target.send(unavailable);
    }
  };

  const extraKinds = new Map<string, EnvelopeHandler>();

  const receive = async (envelope: Envelope): Promise<void> => {
    const { kind, to: toText, stanza: text, node } = envelope;
    const extra = extraKinds.get(kind);
    if (extra) return extra(envelope);
    const to = Jid.parse(toText);
    if (kind === 'gone') return to ? announceGone(to) : undefined;
    if (kind === 'conflict') {
      const session = to && core.sessions.get(to.bare, to.resource);
      if (!session) return;
      replacedRemotely.add(session);
      return session.close(new StreamError('conflict', 'replaced by a new login with the same resource'));
    }
    const stanza = parseElement(text);
    if (!stanza || !to) return;
    const from = Jid.parse(stanza.attrs.from ?? '') ?? Jid.of('', core.domain);
    const ctx: RouteContext = { stanza, from, to, origin: null, relayed: true };
    switch (kind) {
      case 'message/forwarded':
        forwarded.add(stanza);
        return core.deliver('message/bare', ctx);
      case 'message/bare':
      case 'message/full':
      case 'iq/full':
        return core.deliver(kind, ctx);
      case 'presence/full':
        core.sessions.get(to.bare, to.resource)?.send(stanza);
        return;
      case 'presence/to':
        // Another resource of the same account: where copies of its bare-JID messages go.
        if (from.bare === to.bare && from.resource) learn(to.bare, from.resource, node, stanza.attrs.type !== 'unavailable');
        for (const target of core.sessions.available(to.bare)) target.send(stanza);
        return;
      case 'presence/bare':
      case 'message/copy':
        for (const target of core.sessions.available(to.bare)) target.send(stanza);
        return;
      default:
        core.log.warn({ kind }, 'unknown cluster envelope');
    }
  };

  // One at a time, in arrival order: what one node sent another arrives in the order it was sent.
  let chain: Promise<void> = Promise.resolve();
  return {
    receive(envelope) {
      chain = chain.then(() => receive(envelope)).catch((err) => core.log.error({ err, kind: envelope.kind }, 'delivering a stanza from another node failed'));
    },
    handle(kind, handler) {
      extraKinds.set(kind, handler);
    },
    async rejoin() {
      const bound = [...core.sessions.connections()].filter((s) => s.state === 'bound' && s.jid);
      await Promise.all(bound.map(register));
    },
  };
}

function withTo(presence: Element, to: string): Element {
  const copy = new Element(presence.name, { ...presence.attrs, to }, []);
  copy.children = presence.children;
  return copy;
}
