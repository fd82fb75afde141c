import {
  CodecError,
  COMPRESS_THRESHOLD,
  MessageStatus,
  MetaKey,
  ServiceError,
  ShutdownError,
  CallTimeoutError,
  ConnectionError,
  ConnectionLostError,
  HeartbeatError,
  RpcxError,
  UnsupportedCodecError,
  newMetadata,
  type ClientCallResult,
  type ClientPlugin,
  type Connection,
  type Logger,
  type Metadata,
  type MethodSchema,
} from '@rpcx/core';
import {
  FrameDecoder,
  Message,
  encodeMessage,
  heartbeatRequest,
  isServerPush,
  type CodecRegistry,
  type CompressorRegistry,
} from '@rpcx/protocol';
import { abortError } from './abort.js';
import { Emitter, events } from './emitter.js';
import { PendingTable } from './pending-table.js';

/** Per-call settings. Every field is optional; client options give the defaults. */
export interface CallOptions {
  /** Abort the call. The pending reply is dropped; the server is not told. */
  signal?: AbortSignal;
  /**
   * Give up after this many milliseconds with a `TimeoutError`. The server learns the
   * deadline through `__ServerTimeout` and can stop early.
   */
  timeoutMs?: number;
  /** Request metadata. */
  metadata?: Metadata;
  /** A map to receive the response metadata (plus `__ServerAddress`), like Go's context map. */
  responseMetadata?: Metadata;
  /** Serialize type for this call. */
  serializeType?: number;
  /** Compress type for this call (payloads over 1024 bytes only, as Go). */
  compressType?: number;
  /** Schemas for codecs that need them (protobuf, thrift). */
  schema?: MethodSchema;
}

/** What an `RpcClient` needs; the xclient fills it from its options. */
export interface RpcClientConfig {
  codecs: CodecRegistry;
  compressors: CompressorRegistry;
  serializeType: number;
  compressType: number;
  /** Default per-call timeout, 0 = none. */
  timeoutMs: number;
  /** Send a heartbeat this often (0 = never) and close the connection if one is not answered in `heartbeatTimeoutMs`. */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /**
   * Close the connection once nothing was sent or received for this long and no call is
   * waiting (Go `IdleTimeout`); 0 = never.
   */
  idleTimeoutMs?: number;
  maxMessageLength?: number;
  maxDecompressedLength?: number;
  plugins: readonly ClientPlugin[];
  logger: Logger;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  codecSchema: unknown;
  responseMetadata: Metadata | undefined;
  /** Resolve with `{ reply, metadata }` instead of the reply alone. */
  withMetadata: boolean;
  /** `performance.now()` after which the call fails with `CallTimeoutError`; Infinity = never. */
  deadline: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** The longest delay a timer takes (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 0x7fff_ffff;

/** The metadata of a request without any: encoding only reads it. */
const NO_METADATA: Metadata = Object.freeze(newMetadata());

/** A server push as delivered to listeners. */
export interface ServerMessage {
  servicePath: string;
  serviceMethod: string;
  metadata: Metadata;
  payload: Uint8Array;
  /** The frame as decoded, for flags and serialize type. */
  message: Message;
  /** `network@address` of the server that pushed it. */
  server: string;
}

export interface RpcClientEvents {
  message: [ServerMessage];
  close: [Error | undefined];
}

/**
 * One connection to one server: many calls in flight, matched by sequence number.
 * The xclient keeps one per server; use it directly for a single fixed server.
 */
export class RpcClient extends Emitter<RpcClientEvents> {
  private readonly decoder: FrameDecoder;
  private readonly pending = new PendingTable<Pending>();
  private seq = 0;
  /**
   * One timer per connection for every call's deadline, armed for the earliest one (`sweep`):
   * no timer is made or cleared per call. `deadlineAt` is when it fires; Infinity = not armed.
   */
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineAt = Infinity;
  /**
   * The request frame of every call, refilled each time: it is encoded at once and never leaves
   * the client. Plugins with a `beforeEncode` hook get a message of their own per call instead.
   */
  private readonly requestFrame = new Message();
  private readonly hasBeforeEncode: boolean;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** `performance.now()` of the last frame sent or bytes received, kept only with an idle timeout. */
  private lastActivity = 0;
  private closing = false;
  private closeError: Error | undefined;
  private _closed = false;

  constructor(
    readonly connection: Connection,
    /** `network@address` this client is connected to. */
    readonly serverKey: string,
    private readonly config: RpcClientConfig,
  ) {
    super();
    this.decoder = new FrameDecoder({
      maxMessageLength: config.maxMessageLength,
      maxDecompressedLength: config.maxDecompressedLength,
      compressors: config.compressors,
    });
    this.hasBeforeEncode = config.plugins.some((p) => p.beforeEncode);
    connection.setHandler({ onData: (c) => this.onData(c), onClose: (e) => this.onClose(e) });
    if (config.heartbeatIntervalMs > 0) this.startHeartbeat();
    if (config.idleTimeoutMs) this.armIdleTimer(config.idleTimeoutMs);
  }

  /** True once the connection is closed or closing; the xclient then drops and re-dials. */
  get closed(): boolean {
    return this._closed || this.closing || this.connection.closed;
  }

  /** Calls waiting for a reply. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** Call `servicePath.serviceMethod` and resolve with the decoded reply. */
  call<R = unknown>(servicePath: string, serviceMethod: string, args: unknown, options: CallOptions = {}): Promise<R> {
    return this.send(servicePath, serviceMethod, args, options, false, false) as Promise<R>;
  }

  /**
   * Like `call`, but resolves with the reply and the reply's metadata (with `__ServerAddress`).
   * A `ServiceError` carries the error reply's metadata too.
   */
  request(servicePath: string, serviceMethod: string, args: unknown, options: CallOptions = {}): Promise<ClientCallResult> {
    return this.send(servicePath, serviceMethod, args, options, false, true) as Promise<ClientCallResult>;
  }

  /** Send without waiting for any reply (Go `Oneshot`); resolves once the frame is queued. */
  async oneway(servicePath: string, serviceMethod: string, args: unknown, options: CallOptions = {}): Promise<void> {
    await this.send(servicePath, serviceMethod, args, options, true, false);
  }

  /**
   * Send a ready-made message (Go `SendRaw`); its seq is replaced by this connection's.
   * Resolves with the response frame, whatever its status.
   */
  sendRaw(message: Message, options: Pick<CallOptions, 'signal' | 'timeoutMs'> = {}): Promise<Message> {
    if (this.closed) return Promise.reject(this.closeError ? new ShutdownError({ cause: this.closeError }) : new ShutdownError());
    const seq = this.nextSeq();
    message.seq = seq;
    if (message.oneway) {
      try {
        this.write(message);
      } catch (err) {
        return Promise.reject(err);
      }
      return Promise.resolve(message);
    }
    const reply = this.track(seq, RAW_REPLY, undefined, false, options.signal, options.timeoutMs);
    this.writeOrFail(seq, message);
    return reply as Promise<Message>;
  }

  /** Server pushes as an async iterator; ends when the connection closes. */
  async *messages(signal?: AbortSignal): AsyncGenerator<ServerMessage> {
    const ac = new AbortController();
    const stop = () => ac.abort();
    this.once('close', stop);
    signal?.addEventListener('abort', stop, { once: true });
    try {
      yield* events(this, 'message', ac.signal);
    } finally {
      this.off('close', stop);
      signal?.removeEventListener('abort', stop);
    }
  }

  /** Close: pending calls fail with "connection is shut down". */
  async close(): Promise<void> {
    if (this._closed) return;
    this.closing = true;
    this.stopTimers();
    await this.connection.close();
  }

  private nextSeq(): number {
    // Go starts at 0 and never wraps in practice; stay within exact doubles.
    const s = this.seq;
    this.seq = s >= Number.MAX_SAFE_INTEGER ? 0 : s + 1;
    return s;
  }

  private send(
    servicePath: string,
    serviceMethod: string,
    args: unknown,
    options: CallOptions,
    oneway: boolean,
    withMetadata: boolean,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closeError ? new ShutdownError({ cause: this.closeError }) : new ShutdownError());
    const serializeType = options.serializeType ?? this.config.serializeType;
    const codec = this.config.codecs.get(serializeType);
    if (!codec) return Promise.reject(new UnsupportedCodecError(serializeType, `unsupported codec: no codec for serialize type ${serializeType}`));

    let payload: Uint8Array;
    try {
      payload = codec.encode(args, options.schema?.args);
    } catch (err) {
      return Promise.reject(err instanceof RpcxError ? err : new CodecError(`${codec.name}: ${(err as Error).message}`, { cause: err }));
    }
    let metadata = options.metadata ?? NO_METADATA;
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs;
    if (timeoutMs > 0) metadata = { ...metadata, [MetaKey.ServerTimeout]: String(Math.ceil(timeoutMs)) };
    // A plugin may change the message and its metadata: it gets a message and a map of its own.
    let m: Message;
    if (this.hasBeforeEncode) {
      m = new Message({ metadata: newMetadata(metadata) });
    } else {
      m = this.requestFrame;
      m.metadata = metadata;
    }
    m.oneway = oneway;
    m.serializeType = serializeType;
    m.servicePath = servicePath;
    m.serviceMethod = serviceMethod;
    m.payload = payload;
    const compressType = options.compressType ?? this.config.compressType;
    m.compressType = compressType !== 0 && payload.length > COMPRESS_THRESHOLD ? compressType : 0;

    const seq = this.nextSeq();
    m.seq = seq;
    this.runFrameHooks('beforeEncode', m);
    if (oneway) {
      try {
        this.write(m);
      } catch (err) {
        return Promise.reject(err);
      }
      return Promise.resolve();
    }
    const reply = this.track(seq, options.schema?.reply, options.responseMetadata, withMetadata, options.signal, timeoutMs);
    this.writeOrFail(seq, m);
    return reply;
  }

  /** A promise for the reply to `seq`, settled by `onMessage`, its deadline, its signal or the close. */
  private track(
    seq: number,
    codecSchema: unknown,
    responseMetadata: Metadata | undefined,
    withMetadata: boolean,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<unknown> {
    const reply = new Promise(captureSettlers);
    const p: Pending = { resolve: capturedResolve, reject: capturedReject, codecSchema, responseMetadata, withMetadata, deadline: Infinity, signal: undefined, onAbort: undefined };
    // Not left there: they would hold this call's promise (and what waits on it) until the next.
    capturedResolve = capturedReject = noop;
    if (signal) {
      if (signal.aborted) {
        p.reject(abortError(signal));
        return reply;
      }
      p.signal = signal;
      p.onAbort = () => this.settle(seq)?.reject(abortError(signal));
      signal.addEventListener('abort', p.onAbort, { once: true });
    }
    if (timeoutMs && timeoutMs > 0) {
      p.deadline = performance.now() + timeoutMs;
      if (p.deadline < this.deadlineAt) this.armDeadlines(p.deadline);
    }
    this.pending.add(seq, p);
    return reply;
  }

  /** (Re)arm the deadline timer to fire at `at` (a `performance.now()` time). */
  private armDeadlines(at: number): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    // Timers count whole milliseconds and may fire a fraction early, and take at most
    // MAX_TIMER_MS (a longer delay fires at once): `sweep` re-arms for what is left.
    this.deadlineTimer = setTimeout(this.sweep, Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - performance.now()))));
  }

  /**
   * Fail the calls whose deadline has passed and re-arm for the earliest one left. With one
   * timeout for every call (the usual case) the timer is re-armed once per timeout period,
   * never per call; a call given a shorter timeout than those waiting re-arms it earlier.
   */
  private readonly sweep = (): void => {
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    this.pending.forEach((p, seq) => {
      if (p.deadline <= now) this.settle(seq)!.reject(new CallTimeoutError());
      else if (p.deadline < next) next = p.deadline;
    });
    if (next < Infinity) this.armDeadlines(next);
  };

  private writeOrFail(seq: number, m: Message): void {
    try {
      this.write(m);
    } catch (err) {
      this.settle(seq)?.reject(err as Error);
    }
  }

  /** Encode and queue one frame; a transport's own write error becomes a `ConnectionError`. */
  private write(m: Message): void {
    const frame = encodeMessage(m, this.config.compressors);
    try {
      this.connection.write(frame);
    } catch (err) {
      throw err instanceof RpcxError ? err : new ConnectionError(`write to ${this.serverKey}: ${(err as Error).message}`, { cause: err });
    }
    if (this.idleTimer) this.lastActivity = performance.now();
  }

  /** Remove a pending call and release its abort listener (its deadline goes with it). */
  private settle(seq: number): Pending | undefined {
    const p = this.pending.take(seq);
    if (!p) return undefined;
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    return p;
  }

  private onData(chunk: Uint8Array): void {
    if (this.idleTimer) this.lastActivity = performance.now();
    try {
      this.decoder.push(chunk, (m) => this.onMessage(m));
    } catch (err) {
      this.config.logger.warn(`rpcx: bad frame from ${this.serverKey}: ${(err as Error).message}`);
      this.connection.destroy(err as Error);
    }
  }

  private onMessage(m: Message): void {
    this.runFrameHooks('afterDecode', m);
    if (isServerPush(m)) {
      this.emit('message', {
        servicePath: m.servicePath,
        serviceMethod: m.serviceMethod,
        metadata: m.metadata,
        payload: m.payload,
        message: m,
        server: this.serverKey,
      });
      return;
    }
    // A reply nobody waits for (timed out, aborted) is dropped, as in Go.
    if (typeof m.seq !== 'number') return;
    const p = this.settle(m.seq);
    if (!p) return;
    if (p.codecSchema === RAW_REPLY) return p.resolve(m);
    if (p.responseMetadata) {
      const replied = m.metadataIfAny;
      if (replied) for (const k in replied) p.responseMetadata[k] = replied[k];
      p.responseMetadata[MetaKey.ServerAddress] = this.serverKey;
    }
    // The frame was decoded for this reply alone, so its metadata map is handed on as is.
    if (p.withMetadata) m.metadata[MetaKey.ServerAddress] = this.serverKey;
    const codec = this.config.codecs.get(m.serializeType);
    if (m.status === MessageStatus.Error) {
      let reply: unknown;
      if (m.payload.length > 0 && codec) {
        try {
          reply = codec.decode(m.payload, p.codecSchema);
        } catch {
          // Go ignores a reply it cannot decode next to an error
        }
      }
      const text = m.metadata[MetaKey.ServiceError] ?? 'unknown service error';
      const metadata = p.withMetadata ? m.metadata : { ...m.metadata, [MetaKey.ServerAddress]: this.serverKey };
      return p.reject(new ServiceError(text, reply === undefined ? { metadata } : { reply, metadata }));
    }
    if (m.heartbeat) return p.resolve(m.payload);
    if (!codec) return p.reject(new ServiceError(`unsupported codec ${m.serializeType}`));
    try {
      const reply = codec.decode(m.payload, p.codecSchema);
      p.resolve(p.withMetadata ? { reply, metadata: m.metadata } : reply);
    } catch (err) {
      // Go turns a reply decode failure into a ServiceError, which is never retried. Our codecs
      // throw a CodecError (over a limit, or malformed), which the xclient does not retry
      // either: the call fails with it as is. Other codecs' errors are wrapped.
      p.reject(err instanceof CodecError ? err : new ServiceError((err as Error).message, { cause: err }));
    }
  }

  /** Plugins' frame hooks; as in Go, their errors are logged only. */
  private runFrameHooks(hook: 'beforeEncode' | 'afterDecode', m: Message): void {
    for (const p of this.config.plugins) {
      if (!p[hook]) continue;
      try {
        p[hook](m);
      } catch (err) {
        this.config.logger.warn(`rpcx: ${hook} plugin: ${(err as Error).message}`);
      }
    }
  }

  private startHeartbeat(): void {
    const { heartbeatIntervalMs: every, heartbeatTimeoutMs: within } = this.config;
    this.heartbeatTimer = setInterval(() => {
      if (this.closed) return this.stopHeartbeat();
      const seq = this.nextSeq();
      const beat = this.track(seq, undefined, undefined, false, undefined, within);
      this.writeOrFail(seq, heartbeatRequest(seq));
      beat.catch((err: Error) => {
        // Go closes the client when a heartbeat fails or times out.
        this.config.logger.warn(`rpcx: heartbeat to ${this.serverKey} failed: ${err.message}; closing`);
        this.connection.destroy(new HeartbeatError(`heartbeat failed: ${err.message}`, { cause: err }));
      });
    }, every);
    // Node: do not keep the process alive for heartbeats (browsers' timers are numbers).
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /**
   * One timer per connection, re-armed for what is left of the idle time rather than reset on
   * every frame. A connection with calls waiting is never idle (unlike Go, whose read deadline
   * also fails a call whose reply takes longer than the idle timeout).
   */
  private armIdleTimer(idleMs: number): void {
    this.lastActivity = performance.now();
    const check = (): void => {
      if (this.closed) return;
      const quiet = performance.now() - this.lastActivity;
      if (this.pending.size === 0 && quiet >= idleMs) {
        this.config.logger.debug(`rpcx: closing the connection to ${this.serverKey}: idle for ${idleMs} ms`);
        void this.close();
        return;
      }
      this.idleTimer = setTimeout(check, this.pending.size > 0 ? idleMs : idleMs - quiet);
      (this.idleTimer as { unref?: () => void }).unref?.();
    };
    this.idleTimer = setTimeout(check, idleMs);
    (this.idleTimer as { unref?: () => void }).unref?.();
  }

  private stopTimers(): void {
    this.stopHeartbeat();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private onClose(error?: Error): void {
    this._closed = true;
    this.closeError = error;
    this.stopTimers();
    const reason = this.closing
      ? new ShutdownError({ cause: error })
      : new ConnectionLostError(`connection to ${this.serverKey} lost${error ? `: ${error.message}` : ''}`, { cause: error });
    for (const seq of this.pending.seqs()) this.settle(seq)?.reject(reason);
    // Calls keep their deadlines while close() waits for the peer; none is left now.
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    for (const p of this.config.plugins) p.clientConnectionClose?.(this.connection);
    this.emit('close', error);
  }
}

/**
 * The settling functions of the promise `track` makes, taken by one shared executor: a closure
 * per call (and the context it captures) would cost more than the promise itself.
 */
function noop(): void {}
let capturedResolve: (value: unknown) => void = noop;
let capturedReject: (error: Error) => void = noop;
function captureSettlers(resolve: (value: unknown) => void, reject: (error: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** Marks a pending `sendRaw` call: resolve with the frame instead of decoding. */
const RAW_REPLY = Symbol('raw reply');
