import {
  metrics,
  propagation,
  trace,
  type Attributes,
  type MeterProvider,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { GoErrorText, RpcxError, splitHostPort, type Metadata } from '@rpcx/core';

/** Options shared by `otelServer` and `otelClient`. */
export interface OtelOptions {
  /** Where spans go. @default the global provider (`trace.getTracerProvider()`), a no-op until an SDK registers one */
  tracerProvider?: TracerProvider;
  /** Where metrics go. @default the global provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider;
  /**
   * How the trace context is written to and read from the rpcx request metadata. rpcx-plugins'
   * Go plugins use the global propagator too; set W3C TraceContext (`traceparent` /
   * `tracestate`) there to talk to them. @default the global propagator (`propagation`), which
   * an SDK's `register()` sets to W3C TraceContext + Baggage
   */
  propagator?: TextMapPropagator;
  /** Record the duration, size and active-call metrics. @default true */
  metrics?: boolean;
}

/** The instrumentation scope name of the tracer and meter. */
export const SCOPE = '@rpcx/plugin-otel';

/** rpcx request metadata is the carrier, as in rpcx-plugins' `share.Inject` / `share.Extract`. */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};
export const metadataSetter: TextMapSetter<Metadata> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

export interface Resolved {
  readonly tracer: Tracer;
  readonly propagator: TextMapPropagator;
  readonly meter: ReturnType<MeterProvider['getMeter']> | undefined;
}

export function resolve(options: OtelOptions): Resolved {
  return {
    tracer: (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE),
    // The API's `propagation` object forwards to whatever global propagator is set when used.
    propagator: options.propagator ?? propagation,
    meter: options.metrics === false ? undefined : (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE),
  };
}

/** The value of `rpc.service` / `rpc.method` for names the server does not know (semantic conventions). */
export const OTHER = '_OTHER';

const UNKNOWN_SERVICE = GoErrorText.serviceNotFound('');
const UNKNOWN_METHOD = GoErrorText.methodNotFound('');

/**
 * Whether an error is the server's answer to an unknown service or method: metrics then use
 * `_OTHER` for the names, so that calls to made-up names create no new series.
 */
export function isUnknownName(error: Error | undefined): boolean {
  if (!error) return false;
  return error.message.startsWith(UNKNOWN_SERVICE) || error.message.startsWith(UNKNOWN_METHOD);
}

/** `error.type`: the rpcx error code (`RPCX_ERR_SERVICE`, …), else the error's class name. */
export function errorType(error: Error): string {
  return error instanceof RpcxError ? error.code : error.name || 'Error';
}

/**
 * `<prefix>.address` / `<prefix>.port` from `host:port` (an address without a port, a unix
 * socket, gives the address alone), parsed once per address: calls to one server or from one
 * client repeat it. At most `limit` addresses are kept.
 */
export class AddressAttributes {
  private readonly cache = new Map<string, Attributes>();
  constructor(
    private readonly prefix: string,
    private readonly limit = 1024,
  ) {}

  of(address: string): Attributes {
    let found = this.cache.get(address);
    if (found) return found;
    found = {};
    if (address !== '') {
      try {
        const { host, port } = splitHostPort(address);
        found[`${this.prefix}.address`] = host;
        found[`${this.prefix}.port`] = port;
      } catch {
        found[`${this.prefix}.address`] = address;
      }
    }
    if (this.cache.size >= this.limit) this.cache.clear();
    this.cache.set(address, found);
    return found;
  }
}
