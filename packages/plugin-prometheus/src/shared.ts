import { Counter, Gauge, register as globalRegistry, type Metric, type Registry } from 'prom-client';
import { GoErrorText, RpcxError } from '@rpcx/core';

/** Options of `serverMetrics` and `clientMetrics`. */
export interface PrometheusOptions {
  /** Where the metrics are registered. @default prom-client's global `register` */
  registry?: Registry;
  /** Prefix of every metric name. @default 'rpcx_' */
  prefix?: string;
  /** Buckets of the latency histograms, in seconds. @default [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: number[];
  /**
   * Distinct service/method pairs that get series of their own; calls to further pairs are
   * counted under `_OTHER`. Names the server does not know (`rpcx: can't find service …` /
   * `… method …`) are always `_OTHER`, so made-up names create no series. @default 500
   */
  maxMethods?: number;
}

export const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The label value for names not given series of their own. */
export const OTHER = '_OTHER';

const UNKNOWN_SERVICE = GoErrorText.serviceNotFound('');
const UNKNOWN_METHOD = GoErrorText.methodNotFound('');

/** The server's answer to an unknown service or method. */
export function isUnknownName(error: unknown): boolean {
  return error instanceof Error && (error.message.startsWith(UNKNOWN_SERVICE) || error.message.startsWith(UNKNOWN_METHOD));
}

/** The `outcome` label: `ok`, the rpcx error code (a fixed catalogue), or `error` for other errors. */
export function outcome(error: unknown): string {
  if (error === undefined) return 'ok';
  return error instanceof RpcxError ? error.code : 'error';
}

export type Labels = Record<string, string>;

/** Observations of one label set, by bucket (not cumulative), as plain numbers. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/**
 * A Prometheus histogram whose observations are plain field updates (`HistogramSeries`), read
 * only when scraped. prom-client's `Histogram` validates and hashes the labels on every
 * observation, which costs more than the rest of a small rpcx call; this keeps the per-call
 * cost to a few additions. It is registered with `registerMetric` as prom-client's own metrics
 * are: the registry reads it through `get()`.
 */
export class ScrapedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
    private readonly series: () => Iterable<[Labels, HistogramSeries]>,
  ) {}

  async get() {
    const values: { labels: Labels; value: number; metricName: string }[] = [];
    for (const [labels, h] of this.series()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += h.counts[i];
        values.push({ labels: { le: String(bound), ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: h.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: h.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: h.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics(): the numbers belong to the live series; nothing to drop. */
  reset(): void {}
}

/** Registers metrics whose values are read from plain numbers at scrape time. */
export class ScrapedMetrics {
  readonly registry: Registry;
  readonly prefix: string;
  readonly buckets: readonly number[];

  constructor(options: PrometheusOptions) {
    this.registry = options.registry ?? globalRegistry;
    this.prefix = options.prefix ?? 'rpcx_';
    this.buckets = options.buckets ?? DEFAULT_BUCKETS;
  }

  counter(name: string, help: string, labelNames: string[], read: () => Iterable<[Labels, number]>): void {
    new Counter({
      name: this.prefix + name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  }

  gauge(name: string, help: string, labelNames: string[], read: () => Iterable<[Labels, number]>): void {
    new Gauge({
      name: this.prefix + name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }

  histogram(name: string, help: string, read: () => Iterable<[Labels, HistogramSeries]>): void {
    this.registry.registerMetric(new ScrapedHistogram(this.prefix + name, help, this.buckets, read) as unknown as Metric);
  }
}

/**
 * Series by label values, created on first use, with the bound on distinct service/method
 * pairs: past `maxMethods`, new pairs share the `_OTHER` series. Looked up through nested
 * maps, so that a call builds no key string.
 */
export class SeriesTable<S> {
  /** service → method → extra label value → series. */
  private readonly byName = new Map<string, Map<string, Map<string, S>>>();
  private readonly others = new Map<string, S>();
  private readonly all: S[] = [];
  private pairs = 0;

  constructor(
    private readonly maxMethods: number,
    private readonly make: (service: string, method: string, extra: string) => S,
  ) {}

  /** The series of `service` / `method` (and one more label value, e.g. the protocol). */
  get(service: string, method: string, extra = ''): S {
    let methods = this.byName.get(service);
    let extras = methods?.get(method);
    const found = extras?.get(extra);
    if (found !== undefined) return found;
    // Names that are `_OTHER` already: one series for those labels.
    if (service === OTHER && method === OTHER) return this.other(extra);
    if (!extras) {
      if (this.pairs >= this.maxMethods) return this.other(extra);
      this.pairs++;
      if (!methods) this.byName.set(service, (methods = new Map()));
      methods.set(method, (extras = new Map()));
    }
    const made = this.make(service, method, extra);
    extras.set(extra, made);
    this.all.push(made);
    return made;
  }

  /** The `_OTHER` series. */
  other(extra = ''): S {
    let s = this.others.get(extra);
    if (!s) {
      this.others.set(extra, (s = this.make(OTHER, OTHER, extra)));
      this.all.push(s);
    }
    return s;
  }

  values(): IterableIterator<S> {
    return this.all.values();
  }
}

/** Counts by a label value (an outcome), with `ok` as a plain field for the common case. */
export class OutcomeCounts {
  ok = 0;
  private readonly errors = new Map<string, number>();

  add(error: unknown): void {
    if (error === undefined) this.ok++;
    else {
      const o = outcome(error);
      this.errors.set(o, (this.errors.get(o) ?? 0) + 1);
    }
  }

  *entries(): Generator<[string, number]> {
    if (this.ok > 0) yield ['ok', this.ok];
    yield* this.errors;
  }
}
