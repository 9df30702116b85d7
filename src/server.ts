// The composition root of the XMPP side: builds the core, plugs in the modules, opens listeners.
import http from 'node:http';
import { join } from 'node:path';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from './config/types.js';
import type { Store } from './storage/types.js';
import { Core } from './core/core.js';
import { attachWebSocket, listen, listenDirectTls, listenTcp, listenWebSocket, withTls, type Listener, type TlsCredentials } from './transport/listeners.js';
import type { TransportLimits } from './transport/output.js';
import { TrustedProxies } from './transport/proxy-protocol.js';
import { loadOrCreateTlsCredentials } from './util/tls.js';
import { applyHttpLimits, CONNECTIONS_CHECKING_INTERVAL_MS, parseAddressList } from './transport/http-limits.js';
import { starttlsModule } from './modules/starttls/index.js';
import { saslModule } from './modules/sasl/index.js';
import { bindModule } from './modules/bind/index.js';
import { sessionModule } from './modules/session/index.js';
import { pingModule, userPingModule } from './modules/ping/index.js';
import { discoModule } from './modules/disco/index.js';
import { carbonsModule } from './modules/carbons/index.js';
import { rosterModule } from './modules/roster/index.js';
import { presenceModule } from './modules/presence/index.js';
import { messageModule } from './modules/message/index.js';
import { offlineModule } from './modules/offline/index.js';
import { mucModule } from './modules/muc/index.js';
import { subscriptionsModule } from './modules/subscriptions/index.js';
import { lastActivityModule } from './modules/last/index.js';
import { privacyModule } from './modules/privacy/index.js';
import { qbHistoryModule } from './modules/qb-history/index.js';
import { chatMarkersModule } from './modules/chat-markers/index.js';
import { chatStatesModule } from './modules/chat-states/index.js';
import { qbSystemMessagesModule } from './modules/qb-system-messages/index.js';
import { qbNoticesModule } from './modules/qb-notices/index.js';
import { standardFeatures } from './modules/standard-features.js';
import { httpUploadRoutes } from './rest/http-upload.js';
import { BlobFiles } from './storage/blob-files.js';
import { scheduleBlobSweeps } from './storage/blob-sweeper.js';
import { buildRestApp } from './rest/app.js';
import { ChatService } from './chat/service.js';
import { chatLimits } from './chat/limits.js';
import { storeAuthenticator } from './credentials.js';
import { blobRoutes } from './rest/blobs.js';
import { chatRoutes } from './rest/chat.js';
import { dataRoutes } from './rest/data.js';
import { reactionRoutes } from './rest/reactions.js';
import { passwordResetRoutes } from './rest/password-reset.js';
import { turnRoutes } from './rest/turn.js';
import { streamManagementModule } from './modules/stream-management/index.js';
import { clusterRoutingModule } from './modules/cluster-routing/index.js';
import { clusterResumptionModule } from './modules/cluster-resumption/index.js';
import type { Cluster } from './cluster/types.js';
import { LocalCluster } from './cluster/local.js';
import { AccountService } from './accounts/service.js';
import { accountsModule } from './modules/accounts/index.js';
import { parseUserLocal, userLocal, type UserAddress } from './xmpp/jid.js';
import { RedisCluster } from './cluster/redis.js';
import { messageMetricsModule } from './modules/message-metrics/index.js';
import { unackedCount } from './modules/stream-management/index.js';
import { addSampler, metrics, registry, type Sample } from './metrics/index.js';
import { metricsRoute, metricsServer } from './metrics/http.js';
import type { HealthProbe, Lifecycle } from './rest/health.js';

/** The cluster envelope telling a node to end what it holds of a deleted account. */
const ACCOUNT_DELETED = 'account-deleted';
import { adminConsole } from './admin/plugin.js';
import { clusterSessions } from './cluster-sessions.js';
import { readRevocations } from './session-revocations.js';
import type { LogRing } from './admin/log-ring.js';
import { startPush, type PushDeps, type PushSystem } from './push/index.js';
import { clusterPresence } from './push/presence.js';
import { subscriptionRoutes } from './rest/subscriptions.js';
import { eventRoutes } from './rest/events.js';

export interface ServerOptions {
  config: Config;
  store: Store;
  log: Logger;
  /** Recent warnings and errors for the console's log page (a destination of `log`). */
  logRing?: LogRing;
  /** Tests: provider trust and delivery timings for push. */
  push?: Pick<PushDeps, 'apns' | 'delivery'>;
}

export interface RunningServer {
  readonly core: Core;
  /** QuickBlox dialogs and history, shared by REST and the XMPP modules. */
  readonly chat: ChatService;
  /** Account changes (deletion, password) that REST, the console and XMPP act on. */
  readonly accounts: AccountService;
  /** The cluster this node is part of (LocalCluster when `redis_url` is unset). */
  readonly cluster: Cluster;
  readonly push: PushSystem;
  /** Bound ports by listener name (0 when the listener is off); useful with port 0 in tests. */
  readonly ports: { c2s: number; c2sTls: number; ws: number; http: number; https: number; metrics: number };
  /** Reads the certificate and key again (tls_cert_file/tls_key_file) and serves them to new connections; on SIGHUP. */
  reloadTls(): Promise<void>;
  /**
   * Ends this node's sessions of accounts that no longer exist (deleted by another process, such as
   * `parley users delete`, which signals the server with SIGHUP); resolves with how many accounts.
   */
  endSessionsOfDeletedAccounts(): Promise<number>;
  /**
   * Reads the stream revocations the CLI recorded since the last read (it does so every
   * REVOCATION_POLL_MS too; SIGHUP asks at once); resolves with how many it applied.
   */
  applyRevocations(): Promise<number>;
  stop(reason?: string): Promise<void>;
}

export async function startServer({ config, store, log, logRing, ...options }: ServerOptions): Promise<RunningServer> {
  const chat = new ChatService(store, {
    mucDomain: `muc.${config.domain}`,
    onListenerError: (err, event) => log.error({ err, event }, 'chat event listener failed'),
    limits: chatLimits(config),
  });
  const accounts = new AccountService(store, (err, event) => log.error({ err, event }, 'account event listener failed'));
  const core = new Core(config, log, {
    userExists: async (user) => (await store.accounts.getUser(user.appId, user.userId)) !== null,
  });
  messageMetricsModule(core);
  starttlsModule(core);
  saslModule(core, storeAuthenticator(store));
  bindModule(core);
  sessionModule(core);
  pingModule(core);
  discoModule(core);
  carbonsModule(core);
  rosterModule(core, store.roster);
  presenceModule(core, store.roster);
  subscriptionsModule(core, store.roster, store.offline);
  lastActivityModule(core, store.accounts);
  const privacy = privacyModule(core, store.privacy, store.roster);
  messageModule(core);
  offlineModule(core, store.offline);
  // QuickBlox group dialogs (MUC) and 1-1 chat: history (save_to_history), markers, chat states, system notifications.
  qbHistoryModule(core, chat);
  chatMarkersModule(core, chat);
  chatStatesModule(core);
  qbSystemMessagesModule(core, chat);
  qbNoticesModule(core, chat);
  const cluster: Cluster = config.redis_url
    ? new RedisCluster({
        url: config.redis_url,
        nodeId: config.cluster_node_id,
        ttl: config.cluster_ttl,
        prefix: config.redis_prefix,
        log,
        links: config.cluster_secret ? { secret: config.cluster_secret, bind: config.cluster_link_bind, port: config.cluster_link_port, advertise: config.cluster_link_advertise } : null,
      })
    : new LocalCluster();
  const muc = mucModule(core, chat, store.chat, cluster.rooms);
  const presence = clusterPresence(core.sessions, cluster, config.domain);
  userPingModule(core, presence);
  const push = startPush({ store, chat, config, log, presence, ...options.push });
  // Standard XMPP features over the same data (archive, blocking, upload, vCard, PEP, ...): src/modules/standard-features.ts.
  const standard = standardFeatures(core, { config, store, chat, privacy, muc, accounts });
  const streamManagement = streamManagementModule(core); // last: its outgoing filter counts what the others let through
  const removal = accountsModule(core);
  accounts.events.on('userDeleted', async (user) => {
    await removal.removeLocal(user);
    if (!cluster.enabled) return;
    const bare = `${userLocal(user)}@${config.domain}`;
    const nodes = new Set((await cluster.locate(bare, { fresh: true })).map((l) => l.node).filter((n) => n !== cluster.nodeId));
    await Promise.all([...nodes].map((node) => cluster.publish(node, { kind: ACCOUNT_DELETED, to: bare, stanza: '' })));
  });
  // A changed password (console, REST, reset link, in-band registration) ends the user's XMPP streams
  // on every node with <reset/>, but the stream that changed it in-band.
  const sessions = clusterSessions(core, cluster, log);
  accounts.events.on('passwordChanged', async ({ appId, userId, keepStream }) => {
    await sessions.reset({ appId, userId }, keepStream);
  });
  // What the CLI recorded (password, user or application deleted): each node ends its own streams.
  const revocations = await readRevocations(store.revocations, {
    reset: (user) => sessions.resetHere(user),
    deleted: (user) => removal.removeLocal(user),
    appDeleted: (appId) => sessions.endApplicationHere(appId),
  }, log);
  if (cluster.enabled) {
    const handlers = clusterRoutingModule(core, cluster, store.roster, privacy);
    sessions.handle(handlers);
    clusterResumptionModule(core, cluster, handlers, streamManagement);
    handlers.handle(ACCOUNT_DELETED, async ({ to }) => {
      const user = parseUserLocal(to.split('@')[0] ?? '');
      if (user) await removal.removeLocal(user);
    });
    await cluster.start(handlers.receive, handlers.rejoin);
  }
  core.start();

  let lifecycle: Lifecycle = 'starting';
  const health: HealthProbe = {
    checks: { store: () => store.health.ping(), ...(cluster.enabled ? { redis: () => cluster.ping() } : {}) },
    lifecycle: () => lifecycle,
  };
  const stopCounting = chat.events.on('message', (event) => metrics.messages.add(event.system ? 'false' : 'true'));
  const stopSampling = addSampler((sample) => sampleServer(core, store, sample));
  const stopSweeping = scheduleBlobSweeps(new BlobFiles(join(config.data_dir, 'blobs')), store.blobs, {
    done: ({ checked, removed }) => { if (removed > 0) log.info({ checked, removed }, 'removed blob files whose blob was deleted'); },
    failed: (err) => log.warn({ err }, 'blob file sweep failed'),
  });

  const needsTls = config.c2s_port > 0 || config.c2s_tls_port > 0 || config.https_port > 0;
  const tls: TlsCredentials | null = needsTls ? await loadOrCreateTlsCredentials(config, log) : null;
  const limits: TransportLimits = {
    maxStanzaSize: config.max_stanza_size,
    maxDepth: config.max_depth,
    maxAttributes: config.max_attributes,
    outputHighWater: config.output_high_water,
    maxOutputBuffer: config.max_output_buffer,
  };
  const accept = core.accept.bind(core);
  const proxies = config.proxy_protocol_from ? new TrustedProxies(config.proxy_protocol_from) : null;
  const base = { host: config.bind, limits, accept, gate: core.connectionLimits, proxies, handshakeTimeoutMs: config.tls_handshake_timeout * 1000 };
  const listeners: Listener[] = [];
  const open = async (port: number, start: (port: number) => Promise<Listener>): Promise<number> => {
    if (port <= 0) return 0;
    const listener = await start(port);
    listeners.push(listener);
    return listener.port;
  };

  const serverOptions = { connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS };
  const httpServer = config.http_port > 0 ? http.createServer(serverOptions) : null;
  const httpsServer = config.https_port > 0 ? https.createServer({ ...tls!, ...serverOptions, handshakeTimeout: config.tls_handshake_timeout * 1000 }) : null;
  const webServers = [httpServer, httpsServer].filter((s): s is http.Server => s !== null);
  for (const server of webServers) {
    applyHttpLimits(server, {
      maxConnectionsPerIp: config.http_max_connections_per_ip,
      headersTimeoutMs: config.http_headers_timeout * 1000,
      requestTimeoutMs: config.http_request_timeout * 1000,
      keepAliveTimeoutMs: config.http_keepalive_timeout * 1000,
      trustedProxies: parseAddressList(config.trusted_proxies),
    });
  }
  const consolePlugins = config.admin_console ? [adminConsole({ store, config, log, core, chat, accounts, cluster, sessions, metrics: registry, logRing })] : [];
  const metricsPlugins = config.metrics_token ? [metricsRoute(config.metrics_token)] : [];
  const restPlugins = [
    chatRoutes, blobRoutes, subscriptionRoutes(push.service), eventRoutes(push.service), dataRoutes, reactionRoutes, passwordResetRoutes, turnRoutes,
    httpUploadRoutes, ...consolePlugins, ...metricsPlugins,
  ];
  const rest = webServers.length > 0 ? await buildRestApp({ store, config, log, chat, accounts }, { servers: webServers, plugins: restPlugins, health }) : null;
  const tlsListeners: Listener[] = [];
  const secure = (listener: Listener): Listener => {
    tlsListeners.push(listener);
    return listener;
  };

  try {
    const ports = {
      c2s: await open(config.c2s_port, async (port) => secure(await listenTcp({ ...base, port, tls }))),
      c2sTls: await open(config.c2s_tls_port, async (port) => secure(await listenDirectTls({ ...base, port, tls: tls! }))),
      ws: await open(config.ws_port, (port) => listenWebSocket({ ...base, port })),
      http: await open(config.http_port, (port) => listenHttp(httpServer!, { ...base, port })),
      https: await open(config.https_port, async (port) => secure(withTls(httpsServer!, await listenHttp(httpsServer!, { ...base, port })))),
      metrics: await open(config.metrics_port, (port) => listen(metricsServer(), { host: config.metrics_bind, port })),
    };
    lifecycle = 'running';
    log.info({ domain: config.domain, bind: config.bind, ports }, 'Parley is listening');
    return {
      core,
      chat,
      accounts,
      cluster,
      push,
      ports,
      async endSessionsOfDeletedAccounts() {
        const users = new Map<string, UserAddress>();
        for (const session of core.sessions.connections()) {
          if (session.user) users.set(userLocal(session.user), session.user);
        }
        let ended = 0;
        for (const user of users.values()) {
          if (await store.accounts.getUser(user.appId, user.userId)) continue;
          await removal.removeLocal(user);
          ended++;
        }
        return ended;
      },
      applyRevocations: () => revocations.poll(),
      async reloadTls() {
        if (tlsListeners.length === 0) return;
        const fresh = await loadOrCreateTlsCredentials(config, log);
        createSecureContext(fresh); // throws for a pair that does not load, before any listener changes
        for (const listener of tlsListeners) listener.setTls?.(fresh);
        log.info({ cert: config.tls_cert_file ?? '(self-signed, in the data directory)' }, 'TLS certificate reloaded');
      },
      async stop(reason = 'shutdown') {
        lifecycle = 'stopping';
        log.info({ reason }, 'stopping');
        if (config.shutdown_drain > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdown_drain * 1000));
        stopSampling();
        stopSweeping();
        stopCounting();
        revocations.stop();
        await core.stop();
        await push.stop();
        await cluster.stop();
        await Promise.all(listeners.map((l) => l.close()));
        await rest?.close();
      },
    };
  } catch (err) {
    await push.stop();
    stopSampling();
    stopSweeping();
    stopCounting();
    revocations.stop();
    await cluster.stop();
    await Promise.all(listeners.map((l) => l.close()));
    await rest?.close();
    throw err;
  }
}

/** An HTTP(S) listener: the REST API (already attached to the server) plus XMPP over WebSocket at /ws. */
function listenHttp(server: http.Server | https.Server, opts: { host: string; port: number; limits: TransportLimits; accept: Core['accept'] }): Promise<Listener> {
  const wss = attachWebSocket(server, opts);
  return listen(server, opts, () => wss.close());
}

/** What this server adds to a /metrics scrape: its connections and sessions, queues, and the store. */
async function sampleServer(core: Core, store: Store, sample: Sample): Promise<void> {
  for (const session of core.sessions.connections()) {
    if (session.state === 'closed') continue;
    const transport = session.connection.kind;
    const state = session.detached ? 'detached' : session.state;
    if (!session.detached) sample.connections[transport]++;
    const key = `${transport} ${state}`;
    sample.sessions.set(key, (sample.sessions.get(key) ?? 0) + 1);
    const unacked = unackedCount(session);
    if (unacked !== undefined) {
      sample.smUnacked += unacked;
      sample.smUnackedMax = Math.max(sample.smUnackedMax, unacked);
    }
  }
  const [bytes, offline] = await Promise.all([store.health.sizeBytes(), store.health.offlineMessages()]);
  sample.storeBytes += bytes;
  sample.offlineMessages += offline;
}
