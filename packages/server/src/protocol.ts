/**
 * The foreign-protocol hook: how a protocol other than rpcx (the HTTP gateway and JSON-RPC of
 * `@rpcx/server-http`) is served on the same port, with the server's services, `auth`, plugin
 * hooks, interceptors, limits and graceful shutdown. Go rpcx does this with cmux on its TCP
 * listener; here a connection whose first byte is not rpcx's magic is offered to the protocol.
 */
import type { Connection, Logger, ServerCall, ServerCallProtocol, ServerCallResult } from '@rpcx/core';
import type { CompressorRegistry, Message } from '@rpcx/protocol';
import type { CallOrigin } from './context.js';
import type { BufferBudget, ServerLimits } from './limits.js';

/**
 * A protocol served beside rpcx on the server's port (`ServerOptions.http`). The Server calls
 * `attach` once, from its constructor.
 */
export interface ForeignProtocol {
  /** For logs. */
  readonly name: string;
  attach(host: ProtocolHost): ForeignProtocolHandler;
}

/** A foreign protocol attached to one server. */
export interface ForeignProtocolHandler {
  /**
   * Take `connection` over when its first chunk (never starting with rpcx's magic byte) is
   * for this protocol; undefined leaves it to rpcx, which closes it as a bad frame.
   */
  adopt(connection: Connection, first: Uint8Array, outlet: ConnectionOutlet): ForeignConnectionSink | undefined;
}

/**
 * How the reader of a taken-over connection writes and paces reading, so that the server's
 * back-pressure and write timeout cover it as they cover rpcx.
 */
export interface ConnectionOutlet {
  /** Send bytes (counted for the write timeout). */
  write(bytes: Uint8Array): void;
  /** Unsent bytes are over the server's `writeHighWaterMark`: wait for `drained()` before writing more. */
  readonly congested: boolean;
  /** Hold (true) or release (false) reading on this reader's behalf. */
  holdReading(held: boolean): void;
}

/** What receives the bytes and the close of a connection taken over by a foreign protocol. */
export interface ForeignConnectionSink {
  data(chunk: Uint8Array): void;
  /** The connection's unsent bytes went back under the high-water mark. */
  drained(): void;
  /** A request is being received or answered: the connection is not idle. */
  readonly busy: boolean;
  closed(error?: Error): void;
}

/** What a foreign protocol may use of the server it is attached to. */
export interface ProtocolHost {
  readonly logger: Logger;
  readonly limits: ServerLimits;
  /** Compressors by compress type, for inflating request bodies. */
  readonly compressors: CompressorRegistry;
  /** Bytes held for incomplete requests over every connection; count request bodies being read here. */
  readonly budget: BufferBudget;
  /** Shutdown has begun: take no new requests. */
  readonly shuttingDown: boolean;
  readonly dispatcher: CallDispatcher;
}

/**
 * Runs calls as the server runs rpcx requests, step by step, so that a protocol writes its own
 * answers in between. For one request, in Go's order: `preReadRequest`, `postReadRequest`,
 * `startCall`, `authorize`, `handle` (interceptors, `preHandleRequest`, `preCall`, the method,
 * `postCall`), `preWriteResponse`, the protocol's write, `postWriteResponse`, and always
 * `endCall`.
 */
export interface CallDispatcher {
  /** The `preReadRequest` hooks; the first error, if any. */
  preReadRequest(connection: Connection): Promise<Error | undefined>;
  /** The `postReadRequest` hooks for a request read; the first error, if any. */
  postReadRequest(connection: Connection, request: Message): Promise<Error | undefined>;
  /** A call for `request`, counted as in flight (graceful shutdown waits for it) until `endCall`. */
  startCall(request: Message, origin: CallOrigin, protocol: ServerCallProtocol): ServerCall;
  /** The server's `auth` on the call's `__AUTH` token; the refusal, if any. */
  authorize(call: ServerCall): Promise<Error | undefined>;
  /** Run the call through the interceptors to the method; never rejects (a failure is the result's `error`). */
  handle(call: ServerCall): Promise<ServerCallResult>;
  /** The rpcx response Go would send for `result` (status, `__rpcx_error__`, compression). */
  response(call: ServerCall, result: ServerCallResult): Message;
  /** The `preWriteResponse` hooks; their errors are logged and ignored. */
  preWriteResponse(call: ServerCall, response: Message | undefined, error: Error | undefined): Promise<void>;
  /** The `postWriteResponse` hooks; their errors are logged and ignored. */
  postWriteResponse(call: ServerCall, response: Message | undefined, error: Error | undefined): Promise<void>;
  /** The call is over: release its context. */
  endCall(call: ServerCall): void;
}
