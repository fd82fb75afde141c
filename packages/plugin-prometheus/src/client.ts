import type { ClientInterceptors, ClientPlugin, RpcMessage, ServiceDiscovery, ServiceEntry } from '@rpcx/core';
import { MetricFactory, NameGuard, OTHER, outcome, type PrometheusOptions } from './shared.js';

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
 */
export function clientMetrics(options: PrometheusOptions = {}): ClientMetrics {
  const make = new MetricFactory(options);
  const guard = new NameGuard(options.maxMethods ?? 500);
  const calls = make.counter('client_calls_total', 'Calls made, by outcome (ok, or the rpcx error code)', ['service', 'method', 'kind', 'outcome']);
  const duration = make.histogram('client_call_duration_seconds', 'Time to a call\'s final reply, retries included', ['service', 'method', 'kind']);
  const inFlight = make.gauge('client_in_flight_calls', 'Calls waiting for their reply', ['service', 'method']);
  const attempts = make.counter('client_attempts_total', 'Requests sent to a server (retries, backup requests and fan-out targets included)', ['service', 'method', 'outcome']);
  const retries = make.counter('client_retries_total', 'Requests after a call\'s first (Failover / Failtry retries, Failbackup\'s backup)', ['service', 'method']);
  const connections = make.gauge('client_open_connections', 'Open connections to servers', []);
  const sent = make.counter('client_sent_bytes_total', 'Request payload bytes', ['service', 'method']);
  const received = make.counter('client_received_bytes_total', 'Reply and push payload bytes', ['service', 'method']);
  const updates = make.counter('client_discovery_updates_total', 'Server lists delivered by the discovery', ['service']);
  const discovered = make.gauge('client_discovered_servers', 'Servers in the latest list', ['service']);

  const names = (service: string, method: string) => (guard.admit(service, method) ? { service, method } : { service: OTHER, method: OTHER });
  const bytes = (counter: typeof sent, message: RpcMessage) => {
    if (!message.heartbeat) counter.inc(names(message.servicePath, message.serviceMethod), message.payload.length);
  };

  const interceptors: ClientInterceptors = {
    calls: (next) => async (call) => {
      const labels = names(call.servicePath, call.serviceMethod);
      const stop = duration.startTimer();
      inFlight.inc(labels);
      let error: unknown;
      try {
        return await next(call);
      } catch (err) {
        error = err;
        throw err;
      } finally {
        inFlight.dec(labels);
        stop({ ...labels, kind: call.kind });
        calls.inc({ ...labels, kind: call.kind, outcome: outcome(error) });
      }
    },
    attempts: (next) => async (attempt) => {
      const labels = names(attempt.servicePath, attempt.serviceMethod);
      if (attempt.attempt > 1) retries.inc(labels);
      try {
        const result = await next(attempt);
        attempts.inc({ ...labels, outcome: 'ok' });
        return result;
      } catch (err) {
        attempts.inc({ ...labels, outcome: outcome(err) });
        throw err;
      }
    },
  };

  const plugin: ClientPlugin = {
    name: 'prometheus',
    clientConnected: () => connections.inc(),
    clientConnectionClose: () => connections.dec(),
    beforeEncode: (message) => bytes(sent, message),
    afterDecode: (message) => bytes(received, message),
  };

  const discovery = (inner: ServiceDiscovery, service: string): ServiceDiscovery => {
    const seen = (entries: ServiceEntry[]) => {
      updates.inc({ service });
      discovered.set({ service }, entries.length);
    };
    return {
      async getServices() {
        const entries = await inner.getServices();
        discovered.set({ service }, entries.length);
        return entries;
      },
      watch: (listener) =>
        inner.watch((entries) => {
          seen(entries);
          listener(entries);
        }),
      clone: (servicePath) => discovery(inner.clone(servicePath), servicePath),
      close: () => inner.close(),
      ...(inner.listAll ? { listAll: () => inner.listAll!() } : {}),
      ...(inner.updateMetadata ? { updateMetadata: (s, k, c) => inner.updateMetadata!(s, k, c) } : {}),
    };
  };

  return { interceptors, plugin, discovery };
}
