/**
 * @packageDocumentation
 * Circuit breakers for the `@rpcx` xclient. Each implements `Breaker` from @rpcx/core
 * (`ready()`, `success()`, `fail()`); the xclient keeps one per server and asks `ready()`
 * before dialling or calling it.
 *
 * - {@link consecutiveBreaker}: Go rpcx's `ConsecCircuitBreaker`, same semantics.
 * - {@link rateBreaker}: opens on a failure rate over a rolling window, probes when half-open.
 * - {@link callWithBreaker}: Go's `Breaker.Call` for guarding any async function.
 *
 * Any object with the three methods is a breaker, so third-party breakers plug in through a
 * small adapter (see the README).
 *
 * @module @rpcx/breaker
 */
export { consecutiveBreaker, type ConsecutiveBreaker, type ConsecutiveBreakerOptions } from './consecutive.js';
export { rateBreaker, type RateBreaker, type RateBreakerOptions, type BreakerState } from './rate.js';
export { callWithBreaker, type CallOptions } from './call.js';
