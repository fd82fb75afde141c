import type { Connection } from './transport.js';
import type { RpcMessage } from './message.js';
import type { Metadata } from './metadata.js';

/**
 * What a service method (and a server plugin) knows about the call it is serving: Go's
 * `context.Context` with rpcx's request and response metadata in it.
 */
export interface RequestContext {
  readonly servicePath: string;
  readonly serviceMethod: string;
  /** Metadata the client sent. */
  readonly metadata: Metadata;
  /** Metadata to send back with the reply; write into it. */
  readonly responseMetadata: Metadata;
  /** `host:port` of the client (or the socket path's peer). */
  readonly remoteAddress: string;
  readonly connection: Connection;
  /** The request frame as decoded. */
  readonly message: RpcMessage;
  /**
   * Fires when the client's `__ServerTimeout` deadline passes or the connection is lost.
   * Created on first use, so a method that never looks pays nothing for it.
   */
  readonly signal: AbortSignal;
  /** Epoch milliseconds by which the client stops waiting, when it said so. */
  readonly deadline: number | undefined;
  /** Send a server-push message to the client this call came from. */
  push(servicePath: string, serviceMethod: string, payload: Uint8Array | string, metadata?: Metadata): Promise<void>;
  /**
   * A value attached to this call (Go rpcx `share.Context.Value`), e.g. by a server
   * interceptor: a tracing span, the authenticated user. Undefined when none is set.
   */
  value<T = unknown>(key: unknown): T | undefined;
  /** Attach a value to this call (Go rpcx `share.Context.SetValue`); use a symbol or your own object as key. */
  setValue(key: unknown, value: unknown): void;
}
