/**
 * Client interceptors: code that wraps every call an XClient makes, in the style of
 * connect-es and grpc-js (`(next) => async (call) => …`). Tracing, metrics, rate limits,
 * retry budgets and concurrency limits are written as interceptors.
 *
 * There are two levels, because one call of the application can become several requests:
 *
 * - A **call interceptor** sees each logical call once (`call`, `oneshot`, `sendRaw`, and
 *   `broadcast` / `fork` / `inform` as one call each), before the fail mode, the server
 *   selection and any retry. Its result is the call's final reply.
 * - An **attempt interceptor** sees each request sent to one selected server: every retry of
 *   Failover / Failtry, Failbackup's backup request, and every target of a fan-out call. It
 *   runs after the server is chosen and inside the call interceptors, so a span it opens is a
 *   child of the call's span, and the metadata it writes goes to that server only.
 *
 * Interceptors are given in one list; the first one is the outermost at both levels. A plain
 * function is a call interceptor; `{ calls, attempts }` gives one or both levels at once (a
 * tracing package that needs both ships one such object). (Not `{ call }`: every function
 * has a `call` property, which would defeat TypeScript's inference of the parameters.) Go's client plugin hooks run inside
 * them: `preCall` / `postCall` are the innermost part of each attempt.
 */
import type { MethodSchema } from './codec.js';
import type { Metadata } from './metadata.js';
import type { SelectRequest } from './selector.js';

/** Which XClient method made the call. */
export type ClientCallKind = 'call' | 'oneshot' | 'sendRaw' | 'broadcast' | 'fork' | 'inform';

/** Per-call encoding settings the caller chose; absent fields take the client's defaults. */
export interface ClientCallEncoding {
  serializeType?: number;
  compressType?: number;
  /** Schemas for codecs that need them (protobuf, thrift). */
  schema?: MethodSchema;
}

/**
 * One logical call. Interceptors may change `args`, `metadata`, `signal` and `timeoutMs`, in
 * place or by passing a changed copy (`{ ...call, … }`) to `next`.
 */
export interface ClientCall extends SelectRequest {
  readonly kind: ClientCallKind;
  readonly servicePath: string;
  readonly serviceMethod: string;
  /** The arguments. For `sendRaw`, the request frame. */
  args: unknown;
  /** Request metadata, already holding `__AUTH` when the client has a token. Yours to change. */
  metadata: Metadata;
  /** The caller's signal; aborting it ends the call with `AbortError`. */
  signal: AbortSignal | undefined;
  /** Time limit of each attempt in ms (sent as `__ServerTimeout`); 0 = none. */
  timeoutMs: number;
  readonly encoding: ClientCallEncoding;
  /**
   * Values that interceptors of this call leave for later interceptors and its attempts (e.g.
   * the call's tracing span). Shared by every copy of the call and by its attempts.
   */
  readonly values: Map<unknown, unknown>;
  /**
   * Whether the call makes exactly one request, to one server: a `oneshot`, or a `call` /
   * `sendRaw` whose fail mode never retries (Failfast). Tracing then needs no call-level span
   * above the request's own.
   */
  readonly singleAttempt: boolean;
}

/** One request of a call to one selected server. */
export interface ClientAttempt extends SelectRequest {
  /** The call this attempt belongs to. */
  readonly call: ClientCall;
  readonly servicePath: string;
  readonly serviceMethod: string;
  /** `network@address` of the selected server. */
  readonly server: string;
  /**
   * 1 for a call's first request, 2 for the first retry or the backup request, and so on.
   * Every target of a fan-out call is attempt 1.
   */
  readonly attempt: number;
  /** For `broadcast` / `fork` / `inform`: this target's place among the servers called. */
  readonly target: { readonly index: number; readonly count: number } | undefined;
  /** The arguments, from the call; change them for this attempt only. */
  args: unknown;
  /**
   * This attempt's request metadata: a copy of the call's, so that concurrent attempts (a
   * backup request, fan-out targets) can each carry their own values, e.g. a `traceparent`.
   */
  metadata: Metadata;
  signal: AbortSignal | undefined;
  timeoutMs: number;
}

/** What a call or an attempt resolves with. */
export interface ClientCallResult {
  /**
   * The decoded reply. For `sendRaw`, the response frame; for `oneshot`, undefined; for
   * `inform`, the receipts.
   */
  reply: unknown;
  /** The reply's metadata with `__ServerAddress`; empty when no single reply is meant. */
  metadata: Metadata;
}

export type ClientCallHandler = (call: ClientCall) => Promise<ClientCallResult>;
export type ClientAttemptHandler = (attempt: ClientAttempt) => Promise<ClientCallResult>;

/** Wraps each logical call: `(next) => async (call) => { …; return next(call); }`. */
export type ClientInterceptor = (next: ClientCallHandler) => ClientCallHandler;

/** Wraps each request to one selected server. */
export type ClientAttemptInterceptor = (next: ClientAttemptHandler) => ClientAttemptHandler;

/** Interceptors for both levels from one source, ordered together. */
export interface ClientInterceptors {
  /** Wraps each logical call. */
  calls?: ClientInterceptor;
  /** Wraps each request to one selected server. */
  attempts?: ClientAttemptInterceptor;
}
