// The observed stacks of the benchmark's overhead rows, as a production process runs them: the
// OpenTelemetry SDK (AsyncLocalStorage context, W3C propagation, every span sampled and batched
// to an exporter that drops it, metrics read every 60 s by a reader that drops them) with
// @rpcx/plugin-otel, and Prometheus metrics with @rpcx/plugin-prometheus. `parts` says which:
// `sdk` (the SDK set up and its context manager in use, no plugin: the floor under tracing),
// `tracing` (spans only; with `sampled-10%`, one trace in ten), `otel-metrics` (plugin-otel's
// rpc.* metrics too), `prometheus`, `ratelimit` (@rpcx/plugin-limits' request and client rate
// limits, set far above the load so that they never refuse: the cost of taking a token).
// Each process sets it up once.
import { context, propagation, trace, metrics } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors, ClientPlugin, ServerInterceptor, ServerPlugin } from '@rpcx/core';
import { otelClient, otelServer } from '@rpcx/plugin-otel';
import { clientRateLimit, requestRateLimit } from '@rpcx/plugin-limits';
import { clientMetrics, serverMetrics } from '@rpcx/plugin-prometheus';

const ok = (done: (result: ExportResult) => void) => done({ code: ExportResultCode.SUCCESS });
const dropSpans: SpanExporter = { export: (_spans, done) => ok(done), shutdown: async () => {} };
const dropMetrics: PushMetricExporter = {
  export: (_metrics, done) => ok(done),
  forceFlush: async () => {},
  shutdown: async () => {},
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

function setUpSdk(parts: ObservedPart[]): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // `sampled-10%`: new traces are sampled one in ten, calls follow their parent's decision.
  const sampler = parts.includes('sampled-10%') ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }) : undefined;
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)], ...(sampler ? { sampler } : {}) }));
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 60_000 })] }));
  // `sdk`: the SDK alone, no rpcx plugin, with a context entered once, as the span processor's
  // first export does: from then on Node 20's AsyncLocalStorage runs a hook on every promise.
  if (parts.includes('sdk')) context.with(context.active(), () => {});
}

export type ObservedPart = 'sdk' | 'tracing' | 'sampled-10%' | 'otel-metrics' | 'prometheus' | 'ratelimit';

/** Far above what one benchmark process can do: the limiters take a token per call and never refuse. */
const NEVER_REACHED = 10_000_000;

export function observedServer(parts: ObservedPart[]): { interceptors: ServerInterceptor[]; plugins: ServerPlugin[] } {
  setUpSdk(parts);
  const interceptors: ServerInterceptor[] = [];
  const plugins: ServerPlugin[] = [];
  if (parts.includes('tracing')) interceptors.push(otelServer({ metrics: parts.includes('otel-metrics') }));
  if (parts.includes('ratelimit')) interceptors.push(requestRateLimit({ rate: NEVER_REACHED }));
  if (parts.includes('prometheus')) {
    const prometheus = serverMetrics();
    interceptors.push(prometheus.interceptor);
    plugins.push(prometheus.plugin);
  }
  return { interceptors, plugins };
}

export function observedClient(parts: ObservedPart[]): { interceptors: ClientInterceptors[]; plugins: ClientPlugin[] } {
  setUpSdk(parts);
  const interceptors: ClientInterceptors[] = [];
  const plugins: ClientPlugin[] = [];
  if (parts.includes('tracing')) interceptors.push(otelClient({ metrics: parts.includes('otel-metrics') }));
  if (parts.includes('ratelimit')) interceptors.push({ calls: clientRateLimit({ rate: NEVER_REACHED }) });
  if (parts.includes('prometheus')) {
    const prometheus = clientMetrics();
    interceptors.push(prometheus.interceptors);
    plugins.push(prometheus.plugin);
  }
  return { interceptors, plugins };
}

/** The `--observe` option's value: parts separated by commas. */
export function observedParts(value: string): ObservedPart[] {
  return value.split(',') as ObservedPart[];
}
