// Live charts from the numbers /metrics serves (the console's /admin/api/metrics reads the same
// prom-client registry): gauges drawn as they are, counters as rates, the latency histogram as
// p50/p99 of what arrived between two samples.
import uPlot from '../uPlot.esm.js';
import { api } from '../api.js';
import { h } from '../dom.js';

const INTERVAL_MS = 1000;
const WINDOW = 180;

const CHARTS = [
  { id: 'connections', title: 'Connections', unit: '', series: ['tcp', 'tls', 'websocket'] },
  { id: 'messages', title: 'Messages / s', unit: '/s', series: ['stored', 'not stored'] },
  { id: 'latency', title: 'Delivery latency', unit: ' ms', series: ['p50', 'p99'] },
  { id: 'http', title: 'REST requests / s', unit: '/s', series: ['requests', 'errors'] },
  { id: 'push', title: 'Push / s', unit: '/s', series: ['sent', 'failed'] },
  { id: 'lag', title: 'Event-loop lag', unit: ' ms', series: ['lag'] },
  { id: 'store', title: 'Store size', unit: ' MB', series: ['size'] },
];
const COLORS = ['#2563eb', '#f59e0b', '#10b981'];

const family = (metrics, name) => metrics.find((m) => m.name === name)?.values ?? [];
const sum = (values, match = () => true) => values.filter((v) => match(v.labels ?? {})).reduce((n, v) => n + v.value, 0);

/** Cumulative bucket counts by upper bound, from a histogram family. */
function buckets(metrics, name) {
  const out = new Map();
  for (const v of family(metrics, name)) {
    if (v.metricName !== `${name}_bucket`) continue;
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
    out.set(le, (out.get(le) ?? 0) + v.value);
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]);
}

/** Prometheus-style quantile of the observations between two bucket snapshots; null when none. */
function quantile(q, before, after) {
  const deltas = after.map(([le, n], i) => [le, n - (before[i]?.[1] ?? 0)]);
  const total = deltas.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of deltas) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** One sample's values per chart, given the previous sample (for rates). */
function sample(now, prev) {
  const m = now.metrics;
  const dt = prev ? (now.time - prev.time) / 1000 : 0;
  const rate = (value, before) => (prev && dt > 0 ? Math.max(0, value - before) / dt : null);
  const msgs = (metrics, stored) => sum(family(metrics, 'parley_messages_total'), (l) => l.stored === stored);
  const http = (metrics, errors) => sum(family(metrics, 'parley_http_requests_total'), (l) => !errors || Number(l.status) >= 400);
  const push = (metrics, outcome) => sum(family(metrics, 'parley_push_total'), (l) => l.outcome === outcome);
  const latency = buckets(m, 'parley_delivery_latency_seconds');
  const latencyBefore = prev ? buckets(prev.metrics, 'parley_delivery_latency_seconds') : latency;
  const ms = (s) => (s === null ? null : s * 1000);
  return {
    connections: ['tcp', 'tls', 'websocket'].map((t) => sum(family(m, 'parley_connections'), (l) => l.transport === t)),
    messages: ['true', 'false'].map((s) => rate(msgs(m, s), prev ? msgs(prev.metrics, s) : 0)),
    latency: [ms(quantile(0.5, latencyBefore, latency)), ms(quantile(0.99, latencyBefore, latency))],
    http: [false, true].map((e) => rate(http(m, e), prev ? http(prev.metrics, e) : 0)),
    push: ['sent', 'failed'].map((o) => rate(push(m, o), prev ? push(prev.metrics, o) : 0)),
    lag: [sum(family(m, 'nodejs_eventloop_lag_seconds')) * 1000],
    store: [sum(family(m, 'parley_store_size_bytes')) / 1e6],
  };
}

const format = (v, unit) => (v === null || v === undefined ? '—' : `${v >= 100 ? Math.round(v) : Number(v.toFixed(2))}${unit}`);

export async function render(root) {
  const grid = h('div', { class: 'cards' });
  const status = h('p', { class: 'muted' });
  root.append(h('h1', {}, 'Overview'), status, grid);

  const times = [];
  const data = Object.fromEntries(CHARTS.map((c) => [c.id, c.series.map(() => [])]));
  const plots = new Map();
  const widthOf = (el) => Math.max(260, el.clientWidth - 4);
  for (const chart of CHARTS) {
    const now = h('span', { class: 'now' }, '—');
    const box = h('div');
    const card = h('section', { class: 'card', dataset: { chart: chart.id, max: '0' } }, h('h3', {}, chart.title, now), box);
    grid.append(card);
    const plot = new uPlot({
      width: widthOf(card), height: 160, legend: { show: true, live: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max ?? 0, chart.id === 'store' ? 0.1 : 1) * 1.1] } },
      axes: [{}, { size: 48, values: (_u, ticks) => ticks.map((t) => format(t, '')) }],
      series: [{}, ...chart.series.map((label, i) => ({ label, stroke: COLORS[i], width: 2, spanGaps: true }))],
    }, [times, ...data[chart.id]], box);
    plots.set(chart.id, { plot, card, now });
  }
  const resize = () => { for (const { plot, card } of plots.values()) plot.setSize({ width: widthOf(card), height: 160 }); };
  window.addEventListener('resize', resize);

  let prev = null;
  let stopped = false;
  const tick = async () => {
    try {
      const now = await api('GET', '/metrics');
      const values = sample(now, prev);
      prev = now;
      times.push(now.time / 1000);
      if (times.length > WINDOW) times.shift();
      for (const chart of CHARTS) {
        const series = data[chart.id];
        values[chart.id].forEach((v, i) => {
          series[i].push(v);
          if (series[i].length > WINDOW) series[i].shift();
        });
        const { plot, card, now: label } = plots.get(chart.id);
        plot.setData([times, ...series]);
        const max = Math.max(0, ...series.flat().filter((v) => v !== null));
        card.dataset.max = String(max);
        label.textContent = values[chart.id].map((v) => format(v, chart.unit)).join(' / ');
      }
      status.textContent = `Node ${now.node} · sampled every ${INTERVAL_MS / 1000} s · last ${new Date(now.time).toLocaleTimeString()}`;
    } catch (err) {
      status.textContent = `Metrics unavailable: ${err.message}`;
    }
    if (!stopped) timer = setTimeout(tick, INTERVAL_MS);
  };
  let timer = setTimeout(tick, 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener('resize', resize);
  };
}
