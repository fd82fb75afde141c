import type { Connection, ServerCallProtocol, ServerCallResult, ServerInterceptor, ServerPlugin } from '@rpcx/core';
import type { Registry } from 'prom-client';
import { HistogramSeries, isUnknownName, OutcomeCounts, ScrapedMetrics, SeriesTable, type Labels, type PrometheusOptions } from './shared.js';

/** What `serverMetrics()` gives: put `interceptor` in the server's `interceptors` and `plugin` in its `plugins`. */
export interface ServerMetrics {
  /** Calls, latency, in-flight calls and payload bytes. */
  readonly interceptor: ServerInterceptor;
  /** Open connections (`connAccept` / `connClose`). */
  readonly plugin: ServerPlugin;
}

/** The numbers of one service / method / protocol. */
interface CallSeries {
  readonly labels: Labels;
  readonly names: Labels;
  readonly outcomes: OutcomeCounts;
  readonly duration: HistogramSeries;
  received: number;
  sent: number;
}

/** One set of server metrics per registry and prefix: servers sharing a registry share them. */
const made = new WeakMap<Registry, Map<string, ServerMetrics>>();

/**
 * Server metrics, for every call whichever way it came in (rpcx, HTTP gateway, JSON-RPC):
 *
 * | Metric | Type | Labels |
 * | --- | --- | --- |
 * | `rpcx_server_calls_total` | counter | `service`, `method`, `protocol`, `outcome` |
 * | `rpcx_server_call_duration_seconds` | histogram | `service`, `method`, `protocol` |
 * | `rpcx_server_in_flight_calls` | gauge | `protocol` |
 * | `rpcx_server_open_connections` | gauge | |
 * | `rpcx_server_received_bytes_total`, `rpcx_server_sent_bytes_total` | counter | `service`, `method` (payloads) |
 *
 * Calls to the same registry and prefix return the same metrics (the first call's options hold).
 */
export function serverMetrics(options: PrometheusOptions = {}): ServerMetrics {
  const scraped = new ScrapedMetrics(options);
  const mine = made.get(scraped.registry) ?? new Map<string, ServerMetrics>();
  made.set(scraped.registry, mine);
  const existing = mine.get(scraped.prefix);
  if (existing) return existing;

  const table = new SeriesTable<CallSeries>(options.maxMethods ?? 500, (service, method, protocol) => ({
    labels: { service, method, protocol },
    names: { service, method },
    outcomes: new OutcomeCounts(),
    duration: new HistogramSeries(scraped.buckets),
    received: 0,
    sent: 0,
  }));
  const inFlight: Record<ServerCallProtocol, number> = { rpcx: 0, gateway: 0, jsonrpc: 0 };
  const open = new Set<Connection>();

  scraped.counter('server_calls_total', 'Calls served, by outcome (ok, or the rpcx error code)', ['service', 'method', 'protocol', 'outcome'], function* () {
    for (const s of table.values()) for (const [outcome, n] of s.outcomes.entries()) yield [{ ...s.labels, outcome }, n];
  });
  scraped.histogram('server_call_duration_seconds', 'Time to serve a call', function* () {
    for (const s of table.values()) yield [s.labels, s.duration];
  });
  scraped.gauge('server_in_flight_calls', 'Calls being served', ['protocol'], function* () {
    for (const [protocol, n] of Object.entries(inFlight)) yield [{ protocol }, n];
  });
  // Summed over protocols: one series per service and method.
  const bytes = (pick: (s: CallSeries) => number) =>
    function* (): Generator<[Labels, number]> {
      const sums = new Map<string, [Labels, number]>();
      for (const s of table.values()) {
        const key = `${s.names.service}\0${s.names.method}`;
        const sum = sums.get(key) ?? [s.names, 0];
        sum[1] += pick(s);
        sums.set(key, sum);
      }
      yield* sums.values();
    };
  scraped.counter('server_received_bytes_total', 'Request payload bytes', ['service', 'method'], bytes((s) => s.received));
  scraped.counter('server_sent_bytes_total', 'Response payload bytes', ['service', 'method'], bytes((s) => s.sent));
  scraped.gauge('server_open_connections', 'Open connections', [], function* () {
    // A connection refused by a later connAccept hook never reaches connClose: it is closed, and dropped here.
    for (const c of open) if (c.closed) open.delete(c);
    yield [{}, open.size];
  });

  const interceptor: ServerInterceptor = (next) => async (call) => {
    const started = performance.now();
    inFlight[call.protocol]++;
    let result: ServerCallResult | undefined;
    let error: unknown;
    try {
      result = await next(call);
      error = result.error;
      return result;
    } catch (err) {
      error = err;
      throw err;
    } finally {
      inFlight[call.protocol]--;
      const s = isUnknownName(error) ? table.other(call.protocol) : table.get(call.servicePath, call.serviceMethod, call.protocol);
      s.duration.observe((performance.now() - started) / 1000);
      s.outcomes.add(error);
      s.received += call.payload.length;
      if (result) s.sent += result.payload.length;
    }
  };

  const plugin: ServerPlugin = {
    name: 'prometheus',
    connAccept(connection) {
      open.add(connection);
    },
    connClose(connection) {
      open.delete(connection);
    },
  };
  const metrics = { interceptor, plugin };
  mine.set(scraped.prefix, metrics);
  return metrics;
}
