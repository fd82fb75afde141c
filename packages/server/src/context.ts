import {
  MetaKey,
  newMetadata,
  ConnectionClosedError,
  DeadlineExceededError,
  type Connection,
  type Metadata,
  type RequestContext,
} from '@rpcx/core';
import type { Message } from '@rpcx/protocol';

/** What a call context needs from the connection it arrived on. */
export interface ContextOwner {
  readonly connection: Connection;
  push(servicePath: string, serviceMethod: string, payload: Uint8Array | string, metadata?: Metadata): Promise<void>;
  /** Contexts whose signal exists are aborted when the connection is lost. */
  watch(ctx: CallContext): void;
  unwatch(ctx: CallContext): void;
}

/**
 * The context of one request. The AbortSignal (and its deadline timer) is created on first
 * access, so methods that never look at it cost nothing extra.
 */
export class CallContext implements RequestContext {
  readonly responseMetadata: Metadata = newMetadata();
  readonly deadline: number | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly message: Message,
    private readonly owner: ContextOwner,
    receivedAt: number,
  ) {
    const timeout = message.metadata[MetaKey.ServerTimeout];
    if (timeout !== undefined) {
      const ms = Number(timeout);
      if (Number.isFinite(ms) && ms > 0) this.deadline = receivedAt + ms;
    }
  }

  get servicePath(): string {
    return this.message.servicePath;
  }
  get serviceMethod(): string {
    return this.message.serviceMethod;
  }
  get metadata(): Metadata {
    return this.message.metadata;
  }
  get connection(): Connection {
    return this.owner.connection;
  }
  get remoteAddress(): string {
    return this.owner.connection.remoteAddress;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.owner.connection.closed) {
        controller.abort(new ConnectionClosedError('connection closed'));
      } else {
        this.owner.watch(this);
        if (this.deadline !== undefined) {
          const left = this.deadline - Date.now();
          const expire = () => controller.abort(new DeadlineExceededError());
          if (left <= 0) expire();
          else {
            this.timer = setTimeout(expire, left);
            this.timer.unref();
          }
        }
      }
    }
    return this.controller.signal;
  }

  push(servicePath: string, serviceMethod: string, payload: Uint8Array | string, metadata?: Metadata): Promise<void> {
    return this.owner.push(servicePath, serviceMethod, payload, metadata);
  }

  /** The connection is gone: abort a signal someone is listening to. */
  connectionLost(error?: Error): void {
    this.controller?.abort(error ?? new ConnectionClosedError('connection closed'));
  }

  /** The call finished: release the timer and the connection's reference. */
  finish(): void {
    if (!this.controller) return;
    if (this.timer) clearTimeout(this.timer);
    this.owner.unwatch(this);
  }
}

/**
 * The context of a reflection-free handler (Go `server.Context`): read the raw payload or
 * bind it with the request's codec, and answer with `write` or `writeError`.
 */
export interface HandlerContext extends RequestContext {
  readonly payload: Uint8Array;
  /** Decode the payload with the request's codec (and `schema` for protobuf / thrift). */
  bind<T = unknown>(schema?: unknown): T;
  /** Encode and send the reply; compresses as Go does. Once per request; no-op for oneway. */
  write(reply: unknown, schema?: unknown): void;
  /** Send an error response with `__rpcx_error__` = the error's message. */
  writeError(error: Error | string): void;
}
