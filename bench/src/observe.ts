// The observed stacks of the benchmark's overhead rows, as a production process runs them: the
// OpenTelemetry SDK (AsyncLocalStorage context, W3C propagation, every span sampled and batched
// to an exporter that drops it, metrics read every 60 s by a reader that drops them) with
// @rpcx/plugin-otel, and Prometheus metrics with @rpcx/plugin-prometheus. `parts` says which:
// `tracing` (spans only), `otel-metrics` (plugin-otel's rpc.* metrics too), `prometheus`.
// Each process sets it up once.
import { context, propagation, trace, metrics } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors, ClientPlugin, ServerInterceptor, ServerPlugin } from '@rpcx/core';
import { otelClient, otelServer } from '@rpcx/plugin-otel';
import { clientMetrics, serverMetrics } from '@rpcx/plugin-prometheus';

const ok = (done: (result: ExportResult) => void) => done({ code: ExportResultCode.SUCCESS });
const dropSpans: SpanExporter = { export: (_spans, done) => ok(done), shutdown: async () => {} };
const dropMetrics: PushMetricExporter = {
  export: (_metrics, done) => ok(done),
  forceFlush: async () => {},
  shutdown: async () => {},
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

function setUpSdk(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] }));
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 60_000 })] }));
}

export type ObservedPart = 'tracing' | 'otel-metrics' | 'prometheus';

export function observedServer(parts: ObservedPart[]): { interceptors: ServerInterceptor[]; plugins: ServerPlugin[] } {
  setUpSdk();
  const interceptors: ServerInterceptor[] = [];
  const plugins: ServerPlugin[] = [];
  if (parts.includes('tracing')) interceptors.push(otelServer({ metrics: parts.includes('otel-metrics') }));
  if (parts.includes('prometheus')) {
    const prometheus = serverMetrics();
    interceptors.push(prometheus.interceptor);
    plugins.push(prometheus.plugin);
  }
  return { interceptors, plugins };
}

export function observedClient(parts: ObservedPart[]): { interceptors: ClientInterceptors[]; plugins: ClientPlugin[] } {
  setUpSdk();
  const interceptors: ClientInterceptors[] = [];
  const plugins: ClientPlugin[] = [];
  if (parts.includes('tracing')) interceptors.push(otelClient({ metrics: parts.includes('otel-metrics') }));
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
