// Metric objects cheap enough for the message path. prom-client's own inc()/observe() hash their
// label set on every call (0.2–0.9 µs each, measured); these keep plain numbers that the hot path
// bumps, and hand them to prom-client only when /metrics is scraped.
import { Counter, Histogram, type Registry } from 'prom-client';

/** A counter with one label whose values are known up front: `add(value)` is a property increment. */
export class CellCounter<V extends string> {
  readonly cells: Record<V, number>;
  private readonly reported: Record<V, number>;
  readonly counter: Counter<string>;

  constructor(registry: Registry, opts: { name: string; help: string; label: string; values: readonly V[] }) {
    const zeros = () => Object.fromEntries(opts.values.map((v) => [v, 0])) as Record<V, number>;
    this.cells = zeros();
    this.reported = zeros();
    const cells = this.cells;
    const reported = this.reported;
    this.counter = new Counter({
      name: opts.name,
      help: opts.help,
      labelNames: [opts.label],
      registers: [registry],
      collect() {
        for (const v of opts.values) {
          const delta = cells[v] - reported[v];
          reported[v] = cells[v];
          this.inc({ [opts.label]: v }, delta);
        }
      },
    });
  }

  add(value: V, n = 1): void {
    this.cells[value] += n;
  }
}

/**
 * A histogram without labels whose `record(value)` walks the bucket bounds and adds to a number;
 * at scrape time it reports its own counts in prom-client's format (it is a prom-client Histogram
 * to the registry, so getMetricsAsJSON and the text format see an ordinary histogram).
 */
export class FastHistogram extends Histogram<string> {
  private readonly bounds: number[];
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  private readonly metricName: string;
  private readonly helpText: string;

  constructor(registry: Registry, opts: { name: string; help: string; buckets: number[] }) {
    super({ name: opts.name, help: opts.help, buckets: opts.buckets, registers: [registry] });
    this.metricName = opts.name;
    this.helpText = opts.help;
    this.bounds = [...opts.buckets].sort((a, b) => a - b);
    this.counts = this.bounds.map(() => 0);
  }

  record(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  override reset(): void {
    super.reset();
    if (!this.counts) return; // called by the base constructor
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  // The registry reads histograms through this method (get() splays its labels for JSON).
  async getForPromString() {
    const name = this.metricName;
    let acc = 0;
    const pair = (labels: Record<string, string | number>, value: number, metricName: string) => ({ labels, sharedLabels: {}, value, metricName, exemplar: undefined });
    const values = this.bounds.map((le, i) => pair({ le }, (acc += this.counts[i]!), `${name}_bucket`));
    values.push(pair({ le: '+Inf' }, this.count, `${name}_bucket`), pair({}, this.sum, `${name}_sum`), pair({}, this.count, `${name}_count`));
    return { name, help: this.helpText, type: 'histogram' as const, values, aggregator: 'sum' as const };
  }
}
