import type { Connection, ServerCallResult, ServerInterceptor, ServerPlugin } from '@rpcx/core';
import type { Gauge } from 'prom-client';
import { isUnknownName, MetricFactory, NameGuard, OTHER, outcome, type PrometheusOptions } from './shared.js';

/** What `serverMetrics()` gives: put `interceptor` in the server's `interceptors` and `plugin` in its `plugins`. */
export interface ServerMetrics {
  /** Calls, latency, in-flight calls and payload bytes. */
  readonly interceptor: ServerInterceptor;
  /** Open connections (`connAccept` / `connClose`). */
  readonly plugin: ServerPlugin;
}

/** Connections seen by each open-connections gauge (one per registry), counted at scrape time. */
const openConnections = new WeakMap<Gauge<string>, Set<Connection>>();

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
 */
export function serverMetrics(options: PrometheusOptions = {}): ServerMetrics {
  const make = new MetricFactory(options);
  const guard = new NameGuard(options.maxMethods ?? 500);
  const calls = make.counter('server_calls_total', 'Calls served, by outcome (ok, or the rpcx error code)', ['service', 'method', 'protocol', 'outcome']);
  const duration = make.histogram('server_call_duration_seconds', 'Time to serve a call', ['service', 'method', 'protocol']);
  const inFlight = make.gauge('server_in_flight_calls', 'Calls being served', ['protocol']);
  const received = make.counter('server_received_bytes_total', 'Request payload bytes', ['service', 'method']);
  const sent = make.counter('server_sent_bytes_total', 'Response payload bytes', ['service', 'method']);
  const connections = make.gauge('server_open_connections', 'Open connections', [], function () {
    const open = openConnections.get(this)!;
    // A connection refused by a later connAccept hook never reaches connClose: it is closed, and dropped here.
    for (const c of open) if (c.closed) open.delete(c);
    this.set(open.size);
  });
  if (!openConnections.has(connections)) openConnections.set(connections, new Set());
  const open = openConnections.get(connections)!;

  const interceptor: ServerInterceptor = (next) => async (call) => {
    const stop = duration.startTimer();
    inFlight.inc({ protocol: call.protocol });
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
      inFlight.dec({ protocol: call.protocol });
      const named = !isUnknownName(error as Error | undefined) && guard.admit(call.servicePath, call.serviceMethod);
      const service = named ? call.servicePath : OTHER;
      const method = named ? call.serviceMethod : OTHER;
      stop({ service, method, protocol: call.protocol });
      calls.inc({ service, method, protocol: call.protocol, outcome: outcome(error) });
      received.inc({ service, method }, call.payload.length);
      if (result) sent.inc({ service, method }, result.payload.length);
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
  return { interceptor, plugin };
}
