/**
 * @packageDocumentation
 * Prometheus metrics for `@rpcx` through prom-client: `serverMetrics()` (an interceptor and a
 * plugin for `Server`), `clientMetrics()` (interceptors, a plugin and a discovery wrapper for
 * `XClient`) and `metricsHandler()` for the scrape, on the rpcx port's HTTP side or any HTTP
 * server. Label values stay bounded: unknown services and methods create no series.
 *
 * @module @rpcx/plugin-prometheus
 */
export { serverMetrics, type ServerMetrics } from './server.js';
export { clientMetrics, type ClientMetrics } from './client.js';
export { metricsHandler } from './handler.js';
export { DEFAULT_BUCKETS, OTHER, type PrometheusOptions } from './shared.js';
