import type { ClientCallKind, ClientInterceptors, ClientPlugin, RpcMessage, ServiceDiscovery, ServiceEntry } from '@rpcx/core';
import type { Registry } from 'prom-client';
import { HistogramSeries, OutcomeCounts, ScrapedMetrics, SeriesTable, type Labels, type PrometheusOptions } from './shared.js';

/** What `clientMetrics()` gives. */
export interface ClientMetrics {
  /** For `XClient`'s `interceptors`: calls, latency, in-flight calls, attempts and retries. */
  readonly interceptors: ClientInterceptors;
  /** For `XClient`'s `plugins`: open connections and payload bytes. */
  readonly plugin: ClientPlugin;
  /**
   * Wraps a discovery to count the server lists it delivers (registry refreshes) and the
   * servers in the latest one, labelled with `service`. Pass the result as `discovery`.
   */
  discovery(discovery: ServiceDiscovery, service: string): ServiceDiscovery;
}

/** The numbers of one service / method. */
interface MethodSeries {
  readonly labels: Labels;
  /** By call kind (`call`, `broadcast`, …). */
  readonly kinds: Map<ClientCallKind, { outcomes: OutcomeCounts; duration: HistogramSeries }>;
  readonly attempts: OutcomeCounts;
  retries: number;
  inFlight: number;
  sent: number;
  received: number;
}

/** One set of client metrics per registry and prefix: clients sharing a registry share them. */
const made = new WeakMap<Registry, Map<string, ClientMetrics>>();

/**
 * Client metrics for `XClient` (and the pools and `OneClient` built on it):
 *
 * | Metric | Type | Labels |
 * | --- | --- | --- |
 * | `rpcx_client_calls_total` | counter | `service`, `method`, `kind`, `outcome` |
 * | `rpcx_client_call_duration_seconds` | histogram | `service`, `method`, `kind` (retries included) |
 * | `rpcx_client_in_flight_calls` | gauge | `service`, `method` |
 * | `rpcx_client_attempts_total` | counter | `service`, `method`, `outcome` (each request to a server) |
 * | `rpcx_client_retries_total` | counter | `service`, `method` (attempts after a call's first) |
 * | `rpcx_client_open_connections` | gauge | |
 * | `rpcx_client_sent_bytes_total`, `rpcx_client_received_bytes_total` | counter | `service`, `method` (payloads) |
 * | `rpcx_client_discovery_updates_total` | counter | `service` |
 * | `rpcx_client_discovered_servers` | gauge | `service` |
 *
 * Calls to the same registry and prefix return the same metrics (the first call's options hold).
 */
export function clientMetrics(options: PrometheusOptions = {}): ClientMetrics {
  const scraped = new ScrapedMetrics(options);
  const mine = made.get(scraped.registry) ?? new Map<string, ClientMetrics>();
  made.set(scraped.registry, mine);
  const existing = mine.get(scraped.prefix);
  if (existing) return existing;

  const buckets = scraped.buckets;
  const table = new SeriesTable<MethodSeries>(options.maxMethods ?? 500, (service, method) => ({
    labels: { service, method },
    kinds: new Map(),
    attempts: new OutcomeCounts(),
    retries: 0,
    inFlight: 0,
    sent: 0,
    received: 0,
  }));
  const byKind = (s: MethodSeries, kind: ClientCallKind) => {
    let k = s.kinds.get(kind);
    if (!k) s.kinds.set(kind, (k = { outcomes: new OutcomeCounts(), duration: new HistogramSeries(buckets) }));
    return k;
  };
  let connections = 0;
  const discovered = new Map<string, { updates: number; servers: number }>();

  const each = (pick: (s: MethodSeries) => number) =>
    function* (): Generator<[Labels, number]> {
      for (const s of table.values()) yield [s.labels, pick(s)];
    };
  scraped.counter('client_calls_total', 'Calls made, by outcome (ok, or the rpcx error code)', ['service', 'method', 'kind', 'outcome'], function* () {
    for (const s of table.values()) for (const [kind, k] of s.kinds) for (const [outcome, n] of k.outcomes.entries()) yield [{ ...s.labels, kind, outcome }, n];
  });
  scraped.histogram('client_call_duration_seconds', "Time to a call's final reply, retries included", function* () {
    for (const s of table.values()) for (const [kind, k] of s.kinds) yield [{ ...s.labels, kind }, k.duration];
  });
  scraped.gauge('client_in_flight_calls', 'Calls waiting for their reply', ['service', 'method'], each((s) => s.inFlight));
  scraped.counter('client_attempts_total', 'Requests sent to a server (retries, backup requests and fan-out targets included)', ['service', 'method', 'outcome'], function* () {
    for (const s of table.values()) for (const [outcome, n] of s.attempts.entries()) yield [{ ...s.labels, outcome }, n];
  });
  scraped.counter('client_retries_total', "Requests after a call's first (Failover / Failtry retries, Failbackup's backup)", ['service', 'method'], each((s) => s.retries));
  scraped.gauge('client_open_connections', 'Open connections to servers', [], function* () {
    yield [{}, connections];
  });
  scraped.counter('client_sent_bytes_total', 'Request payload bytes', ['service', 'method'], each((s) => s.sent));
  scraped.counter('client_received_bytes_total', 'Reply and push payload bytes', ['service', 'method'], each((s) => s.received));
  scraped.counter('client_discovery_updates_total', 'Server lists delivered by the discovery', ['service'], function* () {
    for (const [service, d] of discovered) yield [{ service }, d.updates];
  });
  scraped.gauge('client_discovered_servers', 'Servers in the latest list', ['service'], function* () {
    for (const [service, d] of discovered) yield [{ service }, d.servers];
  });

  const interceptors: ClientInterceptors = {
    calls: (next) => async (call) => {
      const s = table.get(call.servicePath, call.serviceMethod);
      const started = performance.now();
      s.inFlight++;
      let error: unknown;
      try {
        return await next(call);
      } catch (err) {
        error = err;
        throw err;
      } finally {
        s.inFlight--;
        const k = byKind(s, call.kind);
        k.duration.observe((performance.now() - started) / 1000);
        k.outcomes.add(error);
      }
    },
    attempts: (next) => async (attempt) => {
      const s = table.get(attempt.servicePath, attempt.serviceMethod);
      if (attempt.attempt > 1) s.retries++;
      try {
        const result = await next(attempt);
        s.attempts.add(undefined);
        return result;
      } catch (err) {
        s.attempts.add(err);
        throw err;
      }
    },
  };

  const plugin: ClientPlugin = {
    name: 'prometheus',
    clientConnected: () => connections++,
    clientConnectionClose: () => connections--,
    beforeEncode: (message: RpcMessage) => {
      if (!message.heartbeat) table.get(message.servicePath, message.serviceMethod).sent += message.payload.length;
    },
    afterDecode: (message: RpcMessage) => {
      if (!message.heartbeat) table.get(message.servicePath, message.serviceMethod).received += message.payload.length;
    },
  };

  const discovery = (inner: ServiceDiscovery, service: string): ServiceDiscovery => {
    const entry = discovered.get(service) ?? { updates: 0, servers: 0 };
    discovered.set(service, entry);
    return {
      async getServices() {
        const entries = await inner.getServices();
        entry.servers = entries.length;
        return entries;
      },
      watch: (listener) =>
        inner.watch((entries: ServiceEntry[]) => {
          entry.updates++;
          entry.servers = entries.length;
          listener(entries);
        }),
      clone: (servicePath) => discovery(inner.clone(servicePath), servicePath),
      close: () => inner.close(),
      ...(inner.listAll ? { listAll: () => inner.listAll!() } : {}),
      ...(inner.updateMetadata ? { updateMetadata: (s, k, c) => inner.updateMetadata!(s, k, c) } : {}),
    };
  };

  const metrics = { interceptors, plugin, discovery };
  mine.set(scraped.prefix, metrics);
  return metrics;
}
