import type { Connection } from './transport.js';
import type { RpcMessage } from './message.js';
import type { RequestContext } from './context.js';
import type { ClientAttempt } from './client-interceptor.js';
import type { SelectRequest } from './selector.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * Server plugins: every hook of Go rpcx's server, in the same order and with the same error
 * semantics. A plugin implements only the hooks it needs; the server runs each hook over its
 * plugins in the order they were added.
 *
 * Order for one request: connAccept (once per connection) → preReadRequest →
 * postReadRequest → (auth) → [server interceptors →] preHandleRequest → preCall → method →
 * postCall → preWriteResponse → write → postWriteResponse. A heartbeat runs heartbeat instead
 * of the call hooks. connClose runs once when the connection is gone. A plugin that is also
 * `Startable` is started when the server first listens (or when added later) and stopped
 * when it shuts down.
 */
export interface ServerPlugin {
  /** A plugin's name, for logs. */
  readonly name?: string;

  /** A service was registered (Go `RegisterPlugin.Register`). Errors fail the registration. */
  register?(serviceName: string, service: unknown, metadata: string): MaybePromise<void>;
  /** A service was removed, e.g. on shutdown (Go `RegisterPlugin.Unregister`). */
  unregister?(serviceName: string): MaybePromise<void>;
  /** A function was registered under `serviceName.methodName`. */
  registerFunction?(serviceName: string, methodName: string, fn: unknown, metadata: string): MaybePromise<void>;

  /** After accept. Return false to reject and close, or a connection to use instead. */
  connAccept?(connection: Connection): MaybePromise<Connection | boolean | void>;
  /** After close. Return false to stop later plugins' connClose. */
  connClose?(connection: Connection): boolean | void;

  /** Before a frame is read. Throwing closes the connection. */
  preReadRequest?(connection: Connection): MaybePromise<void>;
  /**
   * After a frame was read (or failed to decode: `error` set). Throwing closes the
   * connection, except a `RateLimitError`, which is answered and the connection kept.
   */
  postReadRequest?(connection: Connection, message: RpcMessage | undefined, error: Error | undefined): MaybePromise<void>;
  /** Before dispatch. Errors are logged and ignored, as in Go's TCP path. */
  preHandleRequest?(ctx: RequestContext): MaybePromise<void>;
  /**
   * Before the method runs: return replacement args, or nothing (`undefined`) to keep them;
   * throw to fail the call. (Go's hook always returns the args; in JavaScript a forgotten
   * `return` is the common mistake, so it cannot replace them with `undefined`.)
   */
  preCall?(ctx: RequestContext, serviceName: string, methodName: string, args: unknown): MaybePromise<unknown>;
  /**
   * After the method ran: return the reply to send, or nothing (`undefined`) to keep it;
   * throw to fail the call.
   */
  postCall?(
    ctx: RequestContext,
    serviceName: string,
    methodName: string,
    args: unknown,
    reply: unknown,
    error: Error | undefined,
  ): MaybePromise<unknown>;
  /** Before a response is written. Errors are ignored. */
  preWriteResponse?(ctx: RequestContext, request: RpcMessage, response: RpcMessage | undefined, error: Error | undefined): MaybePromise<void>;
  /** After a response was written. */
  postWriteResponse?(ctx: RequestContext, request: RpcMessage, response: RpcMessage | undefined, error: Error | undefined): MaybePromise<void>;
  /** Before a server push is written. Throwing cancels the push. */
  preWriteRequest?(connection: Connection, message: RpcMessage): MaybePromise<void>;
  /** After a server push was written (or failed). */
  postWriteRequest?(connection: Connection, message: RpcMessage, error: Error | undefined): MaybePromise<void>;
  /** A heartbeat arrived; it is echoed after this runs. */
  heartbeat?(connection: Connection, message: RpcMessage): MaybePromise<void>;
}

/** Chooses a server key for a call; `wrapSelect` plugins decorate it. */
export type SelectFunction = (request: SelectRequest) => string | undefined;

/**
 * Client plugins: the hook points of Go rpcx's client, in Go's order for one request:
 * wrapSelect (the server is chosen) → connCreated / connCreateFailed → clientConnected (a new
 * connection) → preCall → beforeEncode → (the request is written) → afterDecode → postCall.
 * clientConnectionClose runs once when a connection closes.
 *
 * As in Go, preCall and postCall run for each request to a server (each retry, backup request
 * and fan-out target), inside the client's interceptors (see `ClientInterceptor`): to wrap a
 * whole call (timing, retries, tracing), write an interceptor.
 */
export interface ClientPlugin {
  readonly name?: string;
  /**
   * Before each request to a server. It may change `attempt.args` and `attempt.metadata`
   * (that request is sent with them); throwing fails the request with that error.
   */
  preCall?(attempt: ClientAttempt): MaybePromise<void>;
  /**
   * After each request to a server, with its reply or error. On success, returning a value
   * other than undefined replaces the reply; returning nothing keeps it. Errors thrown here
   * are logged and ignored, as Go ignores PostCall's error.
   */
  postCall?(attempt: ClientAttempt, reply: unknown, error: Error | undefined): MaybePromise<unknown>;
  /** Right after a dial succeeded; may wrap the connection. */
  connCreated?(connection: Connection): Connection | void;
  /** A dial failed. */
  connCreateFailed?(network: string, address: string, error: Error): void;
  /** Once per new cached connection. */
  clientConnected?(connection: Connection): void;
  /** Once when a connection closes. */
  clientConnectionClose?(connection: Connection): void;
  /** After a request frame is built, before it is written. Errors are logged only. */
  beforeEncode?(message: RpcMessage): void;
  /** After each frame is decoded, pushes included. Errors are logged only. */
  afterDecode?(message: RpcMessage): void;
  /** Wrap server selection. */
  wrapSelect?(next: SelectFunction): SelectFunction;
}
