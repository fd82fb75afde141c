import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { parseServerKey, type ClientInterceptors } from '@rpcx/core';
import { AddressAttributes, errorType, metadataGetter, metadataSetter, resolve, type OtelOptions } from './shared.js';

/** Where a call's span context waits for its attempts, in `call.values`. */
const CALL_CONTEXT = Symbol('@rpcx/plugin-otel.call');

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
 * - each logical call gets an `INTERNAL` span `Service/Method` (with `rpcx.call.kind`), and
 *   the `rpc.client.*` metrics;
 * - each request to one server (every retry, backup request and fan-out target) gets a
 *   `CLIENT` span under it, with `server.address` / `server.port` and `rpcx.attempt`, and that
 *   span's trace context is written into the request's metadata (`traceparent` / `tracestate`
 *   with the W3C propagator), where rpcx-plugins' Go server plugin and `otelServer` read it.
 *
 * The call's parent is a trace context already in the call's metadata (as Go's client plugin
 * reads it), else the active context: inside a method served by `otelServer`, the server span.
 * The client's own spans are not made the active context (nothing inside a call starts spans,
 * and entering a context costs about as much as the spans do): attempts find the call's span
 * in `call.values`.
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
  const serverAttributes = (server: string): Attributes => {
    const { network, address } = parseServerKey(server);
    return network === 'unix' || network === 'memu' ? {} : servers.of(address);
  };

  return {
    calls: (next) => async (call) => {
      const started = performance.now();
      const parent = propagator.extract(context.active(), call.metadata, metadataGetter);
      const span = tracer.startSpan(
        `${call.servicePath}/${call.serviceMethod}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: { 'rpc.system': 'rpcx', 'rpc.service': call.servicePath, 'rpc.method': call.serviceMethod, 'rpcx.call.kind': call.kind },
        },
        parent,
      );
      const callContext = trace.setSpan(parent, span);
      call.values.set(CALL_CONTEXT, callContext);
      const calls = activeOf(call.servicePath, call.serviceMethod);
      calls.calls++;
      let error: Error | undefined;
      try {
        return await next(call);
      } catch (err) {
        error = fail(span, err);
        throw err;
      } finally {
        span.end();
        calls.calls--;
        duration?.record(performance.now() - started, error ? { ...calls.attributes, 'error.type': errorType(error) } : calls.attributes);
      }
    },

    attempts: (next) => async (attempt) => {
      const parent = (attempt.call.values.get(CALL_CONTEXT) as Context | undefined) ?? context.active();
      const attributes: Attributes = {
        'rpc.system': 'rpcx',
        'rpc.service': attempt.servicePath,
        'rpc.method': attempt.serviceMethod,
        'rpcx.server': attempt.server,
        'rpcx.attempt': attempt.attempt,
        ...serverAttributes(attempt.server),
      };
      if (attempt.target) attributes['rpcx.target.index'] = attempt.target.index;
      const span = tracer.startSpan(`${attempt.servicePath}/${attempt.serviceMethod}`, { kind: SpanKind.CLIENT, attributes }, parent);
      const attemptContext = trace.setSpan(parent, span);
      // The attempt's metadata is its own copy: each retry and fan-out target names its own span.
      propagator.inject(attemptContext, attempt.metadata, metadataSetter);
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
