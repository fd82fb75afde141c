/**
 * A per-server circuit breaker (Go `client.Breaker` without `Call`, which is a helper in
 * `@rpcx/breaker`). The xclient asks `ready()` before dialling or calling a server and
 * reports the outcome.
 */
export interface Breaker {
  /** False while the breaker is open: the call is rejected with `BreakerOpenError`. */
  ready(): boolean;
  success(): void;
  fail(): void;
}
