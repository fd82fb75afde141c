import {
  ConnectionClosedError,
  DeadlineExceededError,
  GoErrorText,
  MetaKey,
  ServiceError,
  newMetadata,
  type Codec,
  type Connection,
  type Metadata,
  type RequestContext,
} from '@rpcx/core';
import type { Message } from '@rpcx/protocol';

/** Told when the connection its call came in on is lost. */
export interface ConnectionWatcher {
  connectionLost(error?: Error): void;
}

/**
 * Where a call came from, as its context needs it: the connection `ctx.connection` shows, how
 * `ctx.push` reaches the client, and who says when the connection is lost.
 */
export interface CallOrigin {
  readonly connection: Connection;
  /** `ctx.push`: reject where a push is not possible (an HTTP connection). */
  push(servicePath: string, serviceMethod: string, payload: Uint8Array | string, metadata?: Metadata): Promise<void>;
  /** Tell `watcher` if the connection is lost before `unwatch`. */
  watch(watcher: ConnectionWatcher): void;
  unwatch(watcher: ConnectionWatcher): void;
}

/** The watchers of one connection; `lost` tells each of them once. */
export class ConnectionWatchers {
  private readonly watchers = new Set<ConnectionWatcher>();

  watch(watcher: ConnectionWatcher): void {
    this.watchers.add(watcher);
  }

  unwatch(watcher: ConnectionWatcher): void {
    this.watchers.delete(watcher);
  }

  lost(error?: Error): void {
    for (const w of this.watchers) w.connectionLost(error);
    this.watchers.clear();
  }
}

/**
 * The context of one request. The AbortSignal (and its deadline timer) is created on first
 * access, so methods that never look at it cost nothing extra; so is the map of values.
 */
export class CallContext implements RequestContext, ConnectionWatcher {
  readonly responseMetadata: Metadata = newMetadata();
  readonly deadline: number | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private values: Map<unknown, unknown> | undefined;

  constructor(
    readonly message: Message,
    private readonly origin: CallOrigin,
    receivedAt: number,
  ) {
    const timeout = message.metadataIfAny?.[MetaKey.ServerTimeout];
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
    return this.origin.connection;
  }
  get remoteAddress(): string {
    return this.origin.connection.remoteAddress;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.origin.connection.closed) {
        controller.abort(new ConnectionClosedError());
      } else {
        this.origin.watch(this);
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

  value<T = unknown>(key: unknown): T | undefined {
    return this.values?.get(key) as T | undefined;
  }

  setValue(key: unknown, value: unknown): void {
    (this.values ??= new Map()).set(key, value);
  }

  push(servicePath: string, serviceMethod: string, payload: Uint8Array | string, metadata?: Metadata): Promise<void> {
    return this.origin.push(servicePath, serviceMethod, payload, metadata);
  }

  /** The connection is gone: abort a signal someone is listening to. */
  connectionLost(error?: Error): void {
    this.controller?.abort(error ?? new ConnectionClosedError());
  }

  /** The call finished: release the timer and the connection's reference. */
  finish(): void {
    if (!this.controller) return;
    if (this.timer) clearTimeout(this.timer);
    this.origin.unwatch(this);
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

const EMPTY = new Uint8Array(0);

/** The context handed to a reflection-free handler: the call context plus bind / write. */
export class HandlerCallContext extends CallContext implements HandlerContext {
  /** The handler has answered (`write` or `writeError`); later answers are ignored. */
  answered = false;
  /** The encoded reply written. */
  reply: Uint8Array = EMPTY;
  /** The error written. */
  error: Error | undefined;
  /** Args a server interceptor assigned (`call.args`): `bind` returns them instead of decoding. */
  boundArgs: { value: unknown } | undefined;

  constructor(
    message: Message,
    origin: CallOrigin,
    receivedAt: number,
    private readonly codec: Codec | undefined,
  ) {
    super(message, origin, receivedAt);
  }

  get payload(): Uint8Array {
    return this.message.payload;
  }

  bind<T = unknown>(schema?: unknown): T {
    if (this.boundArgs) return this.boundArgs.value as T;
    if (!this.codec) throw new ServiceError(GoErrorText.codecNotFound(this.message.serializeType));
    return this.codec.decode(this.message.payload, schema) as T;
  }

  write(reply: unknown, schema?: unknown): void {
    if (this.answered) return;
    if (reply !== undefined) {
      if (!this.codec) return this.writeError(new ServiceError(GoErrorText.codecNotFound(this.message.serializeType)));
      this.reply = this.codec.encode(reply, schema);
    }
    this.answered = true;
  }

  writeError(error: Error | string): void {
    if (this.answered) return;
    this.error = typeof error === 'string' ? new ServiceError(error) : error;
    this.answered = true;
  }
}
