import type { RequestContext } from './context.js';
import type { Metadata } from './metadata.js';

/**
 * Server interceptors: functions that wrap every call a server handles, whichever way it came
 * in, as connect-es and grpc-js interceptors do. Rate limits, access control, metrics and
 * tracing are written as interceptors.
 *
 * ```ts
 * const timing: ServerInterceptor = (next) => async (call) => {
 *   const started = performance.now();
 *   const result = await next(call);
 *   log(`${call.servicePath}.${call.serviceMethod}`, performance.now() - started, result.error ?? 'ok');
 *   return result;
 * };
 * new Server({ ..., interceptors: [timing] });
 * ```
 *
 * Where the chain runs, for one call: after the request was read and passed `auth` (and the
 * read hooks), around what Go calls handling the request: `preHandleRequest`, finding the
 * method, decoding the args, `preCall`, the method, `postCall` and encoding the reply all run
 * inside `next`. The response is written after the chain returns (`preWriteResponse`, the
 * write, `postWriteResponse`). Heartbeats and server pushes do not go through it.
 */

/** Which door a call came in: an rpcx frame, the HTTP gateway, or JSON-RPC 2.0 over HTTP. */
export type ServerCallProtocol = 'rpcx' | 'gateway' | 'jsonrpc';

/** One call, as a server interceptor sees it. Change `metadata` or `args` in place to rewrite the request. */
export interface ServerCall {
  readonly protocol: ServerCallProtocol;
  readonly servicePath: string;
  readonly serviceMethod: string;
  /**
   * The request metadata (the same map as `context.metadata`): add, change or delete keys
   * before calling `next`, and the method sees the change. W3C `traceparent`, auth tokens and
   * the client's `__ServerTimeout` are here.
   */
  readonly metadata: Metadata;
  /** `host:port` of the client (for HTTP calls, of the HTTP client). */
  readonly remoteAddress: string;
  /** The payload's codec (see `SerializeType`; user codecs take 5..15). */
  readonly serializeType: number;
  /** The client expects no answer: whatever the result, nothing is sent back. */
  readonly oneway: boolean;
  /**
   * The request payload as received (inflated when it came compressed). `payload.length` is
   * the request size a metrics interceptor records.
   */
  readonly payload: Uint8Array;
  /**
   * The args the method will get, decoded from `payload` with the request's codec on first
   * read (reading it early costs nothing extra: the method gets the same value). Assign to
   * replace them. Reading throws the codec's error when the payload does not decode, and the
   * server's `can not find codec` / `can't find service` error when there is nothing to decode
   * with or for. For a reflection-free handler (`addHandler`), `ctx.bind()` returns what was
   * assigned here.
   */
  args: unknown;
  /**
   * The context the method (or handler) receives. Attach values for it with
   * `context.setValue(key, value)`, e.g. a tracing span; write `context.responseMetadata` to
   * add response metadata.
   */
  readonly context: RequestContext;
}

/** What became of a call: its reply or its error, as it will be sent. */
export interface ServerCallResult {
  /**
   * The encoded reply, as it will be sent (uncompressed); empty when there is none (a failed
   * call without a reply alongside, a reply of `undefined`). `payload.length` is the response
   * size. An interceptor that answers a call itself (a cache) sets it.
   */
  readonly payload: Uint8Array;
  /**
   * The reply the method returned (after `postCall`), before encoding; for reading only:
   * what is sent is `payload`. Undefined for failed calls, handlers and results made by an
   * interceptor that did not set it.
   */
  readonly reply?: unknown;
  /**
   * The call failed: the client gets this error (its message as `__rpcx_error__`, the gateway's
   * `X-Rpcx-Errormessage` or JSON-RPC's error). An interceptor that throws fails the call the
   * same way, e.g. `throw new RateLimitError()`.
   */
  readonly error?: Error;
  /** The response metadata sent with the answer (the same map as `context.responseMetadata`). */
  readonly metadata: Metadata;
}

/** Handles a call: the next interceptor, or, at the end of the chain, the server itself. */
export type ServerCallFn = (call: ServerCall) => Promise<ServerCallResult>;

/**
 * Wraps the rest of the chain. Call `next(call)` with the call you were given (changed in
 * place if need be) and return its result, or a result of your own; throw to fail the call.
 * Interceptors run in the order given: the first one is the outermost.
 */
export type ServerInterceptor = (next: ServerCallFn) => ServerCallFn;
