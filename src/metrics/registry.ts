// The metric families the console's overview draws and /metrics serves, in one prom-client
// Registry. Names are a contract shared with the console (src/admin/public/overview.js): change
// them together.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_NAMES = {
  connections: 'parley_connections',
  messages: 'parley_messages_total',
  deliveryLatency: 'parley_delivery_latency_seconds',
  httpRequests: 'parley_http_requests_total',
  push: 'parley_push_total',
  eventLoopLag: 'nodejs_eventloop_lag_seconds',
  storeSize: 'parley_store_size_bytes',
} as const;

export type TransportLabel = 'tcp' | 'tls' | 'websocket';

export interface ParleyMetrics {
  readonly registry: Registry;
  readonly connections: Gauge<'transport'>;
  readonly messages: Counter<'stored'>;
  readonly deliveryLatency: Histogram;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly push: Counter<'outcome'>;
  readonly storeSize: Gauge;
}

export interface MetricSources {
  /** Open client connections by transport, read when metrics are collected. */
  connections?: () => Iterable<{ kind: TransportLabel }>;
  /** Bytes the store occupies, read when metrics are collected. */
  storeSize?: () => Promise<number> | number;
}

export function createMetrics(sources: MetricSources = {}): ParleyMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const connections = new Gauge({
    name: METRIC_NAMES.connections,
    help: 'Open client connections by transport',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      const counts: Record<TransportLabel, number> = { tcp: 0, tls: 0, websocket: 0 };
      for (const c of sources.connections?.() ?? []) counts[c.kind]++;
      for (const [transport, n] of Object.entries(counts)) this.set({ transport }, n);
    },
  });
  const storeSize = new Gauge({
    name: METRIC_NAMES.storeSize,
    help: 'Bytes the store occupies on disk',
    registers: [registry],
    async collect() {
      if (sources.storeSize) this.set(await sources.storeSize());
    },
  });
  return {
    registry,
    connections,
    storeSize,
    messages: new Counter({ name: METRIC_NAMES.messages, help: 'Chat messages routed, by whether they were stored in history', labelNames: ['stored'], registers: [registry] }),
    deliveryLatency: new Histogram({
      name: METRIC_NAMES.deliveryLatency,
      help: 'Seconds from a message reaching the server to its delivery to an online recipient',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    httpRequests: new Counter({ name: METRIC_NAMES.httpRequests, help: 'REST requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    push: new Counter({ name: METRIC_NAMES.push, help: 'Push notifications by outcome', labelNames: ['outcome'], registers: [registry] }),
  };
}
