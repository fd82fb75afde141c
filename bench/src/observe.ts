// The observed stack of the benchmark's overhead row, as a production process runs it: the
// OpenTelemetry SDK (AsyncLocalStorage context, W3C propagation, spans batched to an exporter
// that drops them, metrics read every 60 s by a reader that drops them) with @rpcx/plugin-otel,
// and Prometheus metrics with @rpcx/plugin-prometheus. Each process sets it up once.
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

export function observedServer(): { interceptors: ServerInterceptor[]; plugins: ServerPlugin[] } {
  setUpSdk();
  const prometheus = serverMetrics();
  return { interceptors: [otelServer(), prometheus.interceptor], plugins: [prometheus.plugin] };
}

export function observedClient(): { interceptors: ClientInterceptors[]; plugins: ClientPlugin[] } {
  setUpSdk();
  const prometheus = clientMetrics();
  return { interceptors: [otelClient(), prometheus.interceptors], plugins: [prometheus.plugin] };
}
