import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import type { RequestContext, ServerCallResult, ServerInterceptor } from '@rpcx/core';
import { AddressAttributes, errorType, isUnknownName, metadataGetter, metadataSetter, OTHER, resolve, type OtelOptions } from './shared.js';

/** The key under which the server interceptor leaves the call's OpenTelemetry context on the `RequestContext`. */
const OTEL_CONTEXT = Symbol.for('@rpcx/plugin-otel.context');

/**
 * The OpenTelemetry context of the call a method is serving: its server span is the active
 * span there. With a context manager registered (an SDK's `register()` does it), nested calls
 * made from the method join the trace by themselves; without one, run them inside
 * `context.with(otelContextOf(ctx), …)`, or pass `ctx.metadata`'s `traceparent` on.
 */
export function otelContextOf(ctx: RequestContext): Context | undefined {
  return ctx.value<Context>(OTEL_CONTEXT);
}

/**
 * Server interceptor: one `SERVER` span per call (rpcx, HTTP gateway and JSON-RPC alike),
 * a child of the trace context found in the request metadata (`traceparent` / `tracestate`
 * with the W3C propagator), and the `rpc.server.*` metrics.
 *
 * As rpcx-plugins' Go server plugin does, the server span's own context is then written back
 * into the request metadata, so a method that forwards `ctx.metadata` to a nested call makes
 * it a child of this span.
 */
export function otelServer(options: OtelOptions = {}): ServerInterceptor {
  const { tracer, propagator, meter } = resolve(options);
  const duration = meter?.createHistogram('rpc.server.duration', { description: 'Duration of calls served', unit: 'ms' });
  const requestSize = meter?.createHistogram('rpc.server.request.size', { description: 'Size of request payloads', unit: 'By' });
  const responseSize = meter?.createHistogram('rpc.server.response.size', { description: 'Size of response payloads', unit: 'By' });
  // Observed when metrics are read, so that counting costs an addition per call. Labelled
  // with the system only: the names come from the wire and may be made up.
  let active = 0;
  meter
    ?.createObservableUpDownCounter('rpc.server.active_calls', { description: 'Calls being served', unit: '{call}' })
    .addCallback((result) => result.observe(active, { 'rpc.system': 'rpcx' }));
  const clients = new AddressAttributes('client');

  return (next) => async (call) => {
    const started = performance.now();
    const parent = propagator.extract(ROOT_CONTEXT, call.metadata, metadataGetter);
    const span = tracer.startSpan(
      `${call.servicePath}/${call.serviceMethod}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'rpc.system': 'rpcx',
          'rpc.service': call.servicePath,
          'rpc.method': call.serviceMethod,
          'rpcx.protocol': call.protocol,
          ...clients.of(call.remoteAddress),
        },
      },
      parent,
    );
    const spanContext = trace.setSpan(parent, span);
    propagator.inject(spanContext, call.metadata, metadataSetter);
    call.context.setValue(OTEL_CONTEXT, spanContext);
    active++;

    let result: ServerCallResult | undefined;
    let error: Error | undefined;
    try {
      result = await context.with(spanContext, next, undefined, call);
      error = result.error;
      return result;
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      active--;
      if (error) {
        // The text is what the client gets in `__rpcx_error__`.
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        span.setAttribute('error.type', errorType(error));
        span.recordException(error);
      }
      span.end();
      if (duration) {
        const unknown = isUnknownName(error);
        const labels: Attributes = {
          'rpc.system': 'rpcx',
          'rpc.service': unknown ? OTHER : call.servicePath,
          'rpc.method': unknown ? OTHER : call.serviceMethod,
        };
        if (error) labels['error.type'] = errorType(error);
        duration.record(performance.now() - started, labels);
        requestSize!.record(call.payload.length, labels);
        if (result) responseSize!.record(result.payload.length, labels);
      }
    }
  };
}
