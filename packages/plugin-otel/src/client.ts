import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { parseServerKey, type ClientCall, type ClientCallHandler, type ClientInterceptors } from '@rpcx/core';
import { AddressAttributes, errorType, metadataGetter, metadataSetter, resolve, type OtelOptions } from './shared.js';

/** Where the context an attempt's span goes under waits, in `call.values`: the call span's, or the call's parent. */
const ATTEMPT_PARENT = Symbol('@rpcx/plugin-otel.call');

function fail(span: Span, err: unknown): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.setAttribute('error.type', errorType(error));
  span.recordException(error);
  return error;
}

/**
 * Client interceptors for `XClient`'s `interceptors` option, at both levels:
 *
 * - each request to one server (every retry, backup request and fan-out target) gets a
 *   `CLIENT` span `Service/Method`, with `server.address` / `server.port` and `rpcx.attempt`,
 *   and that span's trace context is written into the request's metadata (`traceparent` /
 *   `tracestate` with the W3C propagator), where rpcx-plugins' Go server plugin and
 *   `otelServer` read it;
 * - a call that can make more than one request (Failover, Failtry, Failbackup, broadcast,
 *   fork, inform) also gets an `INTERNAL` span `Service/Method` (with `rpcx.call.kind`) over
 *   them, so that retries and fan-out targets show as its children. A call that makes exactly
 *   one (Failfast, `oneshot`: `ClientCall.singleAttempt`) is its request's `CLIENT` span
 *   alone, with `rpcx.call.kind` on it: a span costs about as much as the rest of a small call.
 * - every call is counted in the `rpc.client.*` metrics.
 *
 * The call's parent is a trace context already in the call's metadata (as Go's client plugin
 * reads it), else the active context: inside a method served by `otelServer`, the server span.
 * The client's own spans are not made the active context (nothing inside a call starts spans,
 * and entering a context costs about as much as the spans do): attempts find their parent in
 * `call.values`.
 */
export function otelClient(options: OtelOptions = {}): ClientInterceptors {
  const { tracer, propagator, meter } = resolve(options);
  const duration = meter?.createHistogram('rpc.client.duration', { description: 'Duration of calls, retries included', unit: 'ms' });
  // Counted in plain numbers, observed when metrics are read.
  const active = new Map<string, { attributes: Attributes; calls: number }>();
  meter
    ?.createObservableUpDownCounter('rpc.client.active_calls', { description: 'Calls waiting for their reply', unit: '{call}' })
    .addCallback((result) => {
      for (const a of active.values()) result.observe(a.calls, a.attributes);
    });
  const activeOf = (service: string, method: string) => {
    const key = `${service}\0${method}`;
    let a = active.get(key);
    if (!a) active.set(key, (a = { attributes: { 'rpc.system': 'rpcx', 'rpc.service': service, 'rpc.method': method }, calls: 0 }));
    return a;
  };
  const servers = new AddressAttributes('server');
  // By server key: a client calls the same few servers, and parsing the key on every request showed in profiles.
  const byServer = new Map<string, Attributes>();
  const serverAttributes = (server: string): Attributes => {
    let found = byServer.get(server);
    if (found) return found;
    const { network, address } = parseServerKey(server);
    found = network === 'unix' || network === 'memu' ? {} : servers.of(address);
    if (byServer.size >= 1024) byServer.clear();
    byServer.set(server, found);
    return found;
  };

  /** The context the call's spans go under: a trace context in its metadata, else the active one. */
  const parentOf = (call: ClientCall): Context => propagator.extract(context.active(), call.metadata, metadataGetter);

  /** The call-level span, for calls that can make several requests; its context is their parent. */
  const startCallSpan = (call: ClientCall): Span => {
    const parent = parentOf(call);
    const span = tracer.startSpan(
      `${call.servicePath}/${call.serviceMethod}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: { 'rpc.system': 'rpcx', 'rpc.service': call.servicePath, 'rpc.method': call.serviceMethod, 'rpcx.call.kind': call.kind },
      },
      parent,
    );
    call.values.set(ATTEMPT_PARENT, trace.setSpan(parent, span));
    return span;
  };

  /** A call under its call-level span, which ends with the call. */
  const underCallSpan = (next: ClientCallHandler) => async (call: ClientCall) => {
    const span = startCallSpan(call);
    try {
      return await next(call);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  };

  return {
    calls: (next) => {
      const traced = underCallSpan(next);
      if (!duration) {
        // A call of one request adds nothing to its request's span: not even an async frame.
        return (call) => {
          if (!call.singleAttempt) return traced(call);
          call.values.set(ATTEMPT_PARENT, parentOf(call));
          return next(call);
        };
      }
      return async (call) => {
        const started = performance.now();
        const calls = activeOf(call.servicePath, call.serviceMethod);
        calls.calls++;
        let error: Error | undefined;
        try {
          if (!call.singleAttempt) return await traced(call);
          call.values.set(ATTEMPT_PARENT, parentOf(call));
          return await next(call);
        } catch (err) {
          error = err instanceof Error ? err : new Error(String(err));
          throw err;
        } finally {
          calls.calls--;
          duration.record(performance.now() - started, error ? { ...calls.attributes, 'error.type': errorType(error) } : calls.attributes);
        }
      };
    },

    attempts: (next) => async (attempt) => {
      const call = attempt.call;
      const parent = (call.values.get(ATTEMPT_PARENT) as Context | undefined) ?? context.active();
      const attributes: Attributes = {
        'rpc.system': 'rpcx',
        'rpc.service': attempt.servicePath,
        'rpc.method': attempt.serviceMethod,
        'rpcx.server': attempt.server,
        'rpcx.attempt': attempt.attempt,
        ...serverAttributes(attempt.server),
      };
      // The call's only request stands for the call: it names the call's kind.
      if (call.singleAttempt) attributes['rpcx.call.kind'] = call.kind;
      if (attempt.target) attributes['rpcx.target.index'] = attempt.target.index;
      const span = tracer.startSpan(`${attempt.servicePath}/${attempt.serviceMethod}`, { kind: SpanKind.CLIENT, attributes }, parent);
      // The attempt's metadata is its own copy: each retry and fan-out target names its own span.
      propagator.inject(trace.setSpan(parent, span), attempt.metadata, metadataSetter);
      try {
        return await next(attempt);
      } catch (err) {
        fail(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  };
}
