// Parley's metrics: one prom-client Registry for the process and the typed metric objects every
// layer updates. Counters on the message path are CellCounters and the delivery latency a
// FastHistogram (plain number updates); gauges that describe state (connections, queues, store size)
// are read from the running servers' samplers when /metrics is scraped, so nothing is kept in step
// on the hot path. Served by src/metrics/http.ts; the console reads `registry.getMetricsAsJSON()`.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CellCounter, FastHistogram } from './cells.js';

export const registry = new Registry();
// nodejs_eventloop_lag_seconds, nodejs_heap_size_used_bytes, process_cpu_seconds_total …
collectDefaultMetrics({ register: registry });

export const TRANSPORTS = ['tcp', 'tls', 'websocket'] as const;
export type Transport = (typeof TRANSPORTS)[number];
export const SESSION_STATES = ['opening', 'negotiating', 'authenticated', 'bound', 'detached'] as const;
export type SessionStateLabel = (typeof SESSION_STATES)[number];
export const STANZA_KINDS = ['message', 'presence', 'iq', 'nonza'] as const;
export type StanzaKind = (typeof STANZA_KINDS)[number];

/** What one server reports when /metrics is scraped (each sampler adds to it). */
export interface Sample {
  connections: Record<Transport, number>;
  sessions: Map<string, number>; // `${transport} ${state}` → count
  smUnacked: number;
  smUnackedMax: number;
  offlineMessages: number;
  storeBytes: number;
}
export type Sampler = (sample: Sample) => void | Promise<void>;

const samplers = new Set<Sampler>();

/** A running server registers what it can report; the returned function unregisters it. */
export function addSampler(sampler: Sampler): () => void {
  samplers.add(sampler);
  return () => samplers.delete(sampler);
}

let current: Promise<Sample> | null = null;
/**
 * One sample per scrape: the registry calls every collect() in the same turn, so they all get the
 * sample the first one started. A sampler that fails (a store closing) adds nothing.
 */
function sample(): Promise<Sample> {
  if (current) return current;
  const s: Sample = {
    connections: { tcp: 0, tls: 0, websocket: 0 },
    sessions: new Map(),
    smUnacked: 0,
    smUnackedMax: 0,
    offlineMessages: 0,
    storeBytes: 0,
  };
  const run = Promise.all([...samplers].map(async (sampler) => {
    try {
      await sampler(s);
    } catch {
      // reported as zeros rather than failing the whole scrape
    }
  })).then(() => s);
  current = run;
  void run.finally(() => {
    if (current === run) current = null;
  });
  return run;
}

function sampledGauge<L extends string>(name: string, help: string, labelNames: L[], fill: (gauge: Gauge<L>, s: Sample) => void): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const s = await sample();
      this.reset();
      fill(this, s);
    },
  });
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const metrics = {
  connections: sampledGauge('parley_connections', 'Open XMPP client connections, by transport', ['transport'], (g, s) => {
    for (const t of TRANSPORTS) g.set({ transport: t }, s.connections[t]);
  }),
  sessions: sampledGauge('parley_sessions', 'XMPP sessions by transport and state (detached: kept for stream resumption)', ['transport', 'state'], (g, s) => {
    for (const t of TRANSPORTS) for (const state of SESSION_STATES) g.set({ transport: t, state }, s.sessions.get(`${t} ${state}`) ?? 0);
  }),
  stanzasIn: new CellCounter(registry, { name: 'parley_stanzas_in_total', help: 'Top-level elements received from clients, by kind', label: 'kind', values: STANZA_KINDS }),
  stanzasOut: new CellCounter(registry, { name: 'parley_stanzas_out_total', help: 'Top-level elements written to clients, by kind', label: 'kind', values: STANZA_KINDS }),
  messages: new CellCounter(registry, {
    name: 'parley_messages_total',
    help: 'Messages with a body sent by clients (XMPP or REST); stored=true when kept in the chat history',
    label: 'stored',
    values: ['true', 'false'] as const,
  }),
  deliveryLatency: new FastHistogram(registry, {
    name: 'parley_delivery_latency_seconds',
    help: 'From reading a client message to handing it on (recipient connections, another node or offline storage), stored first when save_to_history',
    buckets: LATENCY_BUCKETS,
  }),
  smResumeAttempts: new Counter({ name: 'parley_sm_resume_attempts_total', help: 'Stream management <resume/> requests', registers: [registry] }),
  smResumptions: new Counter({ name: 'parley_sm_resumptions_total', help: 'Streams resumed (here or from another node)', registers: [registry] }),
  smUnacked: sampledGauge('parley_sm_unacked_stanzas', 'Stanzas sent and not yet acknowledged, over every stream-management session', [], (g, s) => g.set(s.smUnacked)),
  smUnackedMax: sampledGauge('parley_sm_unacked_stanzas_max', 'The longest unacknowledged queue of one session', [], (g, s) => g.set(s.smUnackedMax)),
  offlineMessages: sampledGauge('parley_offline_messages', 'Messages in offline storage, waiting for their recipients', [], (g, s) => g.set(s.offlineMessages)),
  storeSize: sampledGauge('parley_store_size_bytes', 'Size of the database (SQLite files, or the PostgreSQL database)', [], (g, s) => g.set(s.storeBytes)),
  groupCommitBatch: new Histogram({
    name: 'parley_group_commit_batch_size',
    help: 'Writes per SQLite group-commit transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  }),
  groupCommitFlush: new Histogram({
    name: 'parley_group_commit_flush_seconds',
    help: 'A group commit from COMMIT to durable (including the WAL fdatasync)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  }),
  walHold: new Histogram({
    name: 'parley_sqlite_wal_hold_seconds',
    help: 'How long the stored writes were held while the checkpoint worker emptied a WAL past sqlite_wal_limit_mb',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  }),
  httpRequests: new Counter({ name: 'parley_http_requests_total', help: 'REST requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
  httpDuration: new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'REST request duration by route, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  }),
  authFailures: new Counter({ name: 'parley_auth_failures_total', help: 'Failed authentications (XMPP SASL, REST session signatures and logins)', labelNames: ['via'], registers: [registry] }),
  authThrottled: new Counter({ name: 'parley_auth_throttled_total', help: 'Authentications refused because the address failed too often', labelNames: ['via'], registers: [registry] }),
  push: new Counter({ name: 'parley_push_total', help: 'Push notifications handed to a push service, by outcome', labelNames: ['outcome'], registers: [registry] }),
  clusterMessages: new CellCounter(registry, { name: 'parley_cluster_pubsub_messages_total', help: 'Cluster pub/sub messages published and received by this node', label: 'direction', values: ['out', 'in'] as const }),
  clusterBytes: new CellCounter(registry, { name: 'parley_cluster_pubsub_bytes_total', help: 'Bytes of cluster pub/sub messages published and received by this node', label: 'direction', values: ['out', 'in'] as const }),
};

for (const via of ['xmpp', 'rest']) {
  metrics.authFailures.inc({ via }, 0);
  metrics.authThrottled.inc({ via }, 0);
}
for (const outcome of ['sent', 'failed']) metrics.push.inc({ outcome }, 0);

/** The kind label of a top-level element. */
export function stanzaKind(name: string): StanzaKind {
  return name === 'message' || name === 'presence' || name === 'iq' ? name : 'nonza';
}
