/**
 * @packageDocumentation
 * OpenTelemetry for `@rpcx`: `otelServer()` (a server interceptor) and `otelClient()` (XClient
 * interceptors) make spans with the RPC semantic conventions and record the `rpc.server.*` /
 * `rpc.client.*` metrics. The trace context travels in the rpcx request metadata, where
 * rpcx-plugins' Go OpenTelemetry plugins put it, so Go and TypeScript services share traces.
 * Depends on `@opentelemetry/api` only: the application picks and registers the SDK.
 *
 * @module @rpcx/plugin-otel
 */
export { otelServer, otelContextOf } from './server.js';
export { otelClient } from './client.js';
export { SCOPE, type OtelOptions } from './shared.js';
