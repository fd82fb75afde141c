// An OpenTelemetry SDK for the tests: spans kept in memory, metrics collected on demand, the
// AsyncLocalStorage context manager (what an application's `register()` installs), and the W3C
// propagator passed to the interceptors.
import { context, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { OtelOptions } from '../src/index.js';

class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface Sdk {
  options: OtelOptions;
  spans(): ReadableSpan[];
  /** Forget the spans so far. */
  reset(): void;
  /** Data points of one metric, by its attributes. */
  points(name: string): Promise<DataPoint<number | Histogram>[]>;
  shutdown(): Promise<void>;
}

let contextManager: AsyncLocalStorageContextManager | undefined;

/** Installs the context manager once per test file, as an application does once per process. */
export function useContextManager(): void {
  if (contextManager) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
}

export function sdk(): Sdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    options: { tracerProvider, meterProvider, propagator: new W3CTraceContextPropagator() },
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    async points(name) {
      const { resourceMetrics } = await reader.collect();
      const found = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === name);
      return found.flatMap((m) => m.dataPoints as DataPoint<number | Histogram>[]);
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The one data point whose attributes are exactly these. */
export function pointWith<T>(points: DataPoint<T>[], attributes: Attributes): DataPoint<T> | undefined {
  const want = JSON.stringify(Object.entries(attributes).sort());
  return points.find((p) => JSON.stringify(Object.entries(p.attributes).sort()) === want);
}
