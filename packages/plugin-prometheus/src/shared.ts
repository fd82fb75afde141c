import { Counter, Gauge, Histogram, register as globalRegistry, type Registry } from 'prom-client';
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

/**
 * Keeps the `service` / `method` label values to a bounded set: the first `max` pairs seen
 * keep their names, later ones become `_OTHER`.
 */
export class NameGuard {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  /** Whether the pair has series of its own; records it if there is room. */
  admit(service: string, method: string): boolean {
    const key = `${service}\0${method}`;
    if (this.seen.has(key)) return true;
    if (this.seen.size >= this.max) return false;
    this.seen.add(key);
    return true;
  }
}

const UNKNOWN_SERVICE = GoErrorText.serviceNotFound('');
const UNKNOWN_METHOD = GoErrorText.methodNotFound('');

/** The server's answer to an unknown service or method. */
export function isUnknownName(error: Error | undefined): boolean {
  return error !== undefined && (error.message.startsWith(UNKNOWN_SERVICE) || error.message.startsWith(UNKNOWN_METHOD));
}

/** The `outcome` label: `ok`, the rpcx error code (a fixed catalogue), or `error` for other errors. */
export function outcome(error: unknown): string {
  if (error === undefined) return 'ok';
  return error instanceof RpcxError ? error.code : 'error';
}

/** Creates metrics on a registry, or returns the ones an earlier call made there (two servers, one registry). */
export class MetricFactory {
  readonly registry: Registry;
  readonly prefix: string;
  readonly buckets: number[];

  constructor(options: PrometheusOptions) {
    this.registry = options.registry ?? globalRegistry;
    this.prefix = options.prefix ?? 'rpcx_';
    this.buckets = options.buckets ?? DEFAULT_BUCKETS;
  }

  private existing<T>(name: string): T | undefined {
    return this.registry.getSingleMetric(this.prefix + name) as T | undefined;
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return this.existing<Counter<L>>(name) ?? new Counter({ name: this.prefix + name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect?: (this: Gauge<L>) => void): Gauge<L> {
    return (
      this.existing<Gauge<L>>(name) ??
      new Gauge({ name: this.prefix + name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) })
    );
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[]): Histogram<L> {
    return this.existing<Histogram<L>>(name) ?? new Histogram({ name: this.prefix + name, help, labelNames, buckets: this.buckets, registers: [this.registry] });
  }
}
