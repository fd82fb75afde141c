import {
  COMPRESS_THRESHOLD,
  FrameTimeoutError,
  IdleTimeoutError,
  MAGIC_NUMBER,
  MessageStatus,
  MessageTooLongError,
  MetaKey,
  GoErrorText,
  RateLimitError,
  ServerBufferFullError,
  ServiceError,
  ShutdownError,
  UnauthenticatedMessageTooLongError,
  WriteTimeoutError,
  newMetadata,
  type Codec,
  type Connection,
  type Logger,
  type Metadata,
  type RequestContext,
} from '@rpcx/core';
import {
  FrameDecoder,
  Message,
  decompressPayload,
  encodeMessage,
  type CodecRegistry,
  type CompressorRegistry,
} from '@rpcx/protocol';
import { CallContext, type ContextOwner, type HandlerContext } from './context.js';
import type { BufferBudget, ServerLimits } from './limits.js';
import type { Handler } from './service.js';
import type { PluginContainer } from './plugins.js';
import type { ServiceTable } from './service.js';

/**
 * Where a connection goes whose first byte is not rpcx's magic (the HTTP gateway and
 * JSON-RPC, see `http/front.ts`).
 */
export interface ForeignProtocols {
  /** Take `connection` over when its first chunk is for this; undefined leaves it to rpcx. */
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

/** What receives the bytes and the close of a connection taken over by `ForeignProtocols`. */
export interface ForeignConnectionSink {
  data(chunk: Uint8Array): void;
  /** The connection's unsent bytes went back under the high-water mark. */
  drained(): void;
  /** A request is being received or answered: the connection is not idle. */
  readonly busy: boolean;
  closed(error?: Error): void;
}

/** What a connection needs from its server. */
export interface ServerCore {
  readonly services: ServiceTable;
  readonly codecs: CodecRegistry;
  readonly compressors: CompressorRegistry;
  readonly plugins: PluginContainer;
  readonly logger: Logger;
  readonly auth: ((ctx: RequestContext, token: string | undefined) => unknown) | undefined;
  readonly errorText: ((response: Message, error: Error) => string) | undefined;
  readonly limits: ServerLimits;
  /** Bytes held for incomplete requests, over every connection. */
  readonly budget: BufferBudget;
  /** Connections not starting with rpcx's magic byte go here when set. */
  readonly http: ForeignProtocols | undefined;
  /** Shutdown has begun: take no new requests. */
  readonly shuttingDown: boolean;
  /** Called when a request starts and ends, for graceful shutdown. */
  callStarted(): void;
  callEnded(): void;
  connectionClosed(conn: ServerConnection): void;
  sendMessage(connection: Connection, servicePath: string, serviceMethod: string, metadata: Metadata | undefined, payload: Uint8Array | string): Promise<void>;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';

const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** Compress like Go: only above 1024 bytes and only when the request was compressed. */
function setPayload(res: Message, req: Message, payload: Uint8Array): void {
  res.payload = payload;
  if (req.compressType !== 0 && payload.length > COMPRESS_THRESHOLD) res.compressType = req.compressType;
}

type ErrorText = ((response: Message, error: Error) => string) | undefined;

/** Go's handleError: status Error and `__rpcx_error__`, on top of the response metadata. */
function errorResponse(req: Message, error: Error, responseMetadata: Metadata | undefined, errorText: ErrorText): Message {
  const res = req.toResponse();
  res.status = MessageStatus.Error;
  res.metadata = responseMetadata ?? newMetadata();
  res.metadata[MetaKey.ServiceError] = errorText ? errorText(res, error) : error.message;
  return res;
}

/** The context handed to a reflection-free handler: the call context plus bind / write. */
class HandlerCallContext extends CallContext implements HandlerContext {
  response: Message | undefined;
  error: Error | undefined;

  constructor(
    req: Message,
    owner: ContextOwner,
    receivedAt: number,
    private readonly codec: Codec | undefined,
    private readonly errorText: ErrorText,
  ) {
    super(req, owner, receivedAt);
  }

  get payload(): Uint8Array {
    return this.message.payload;
  }

  bind<T = unknown>(schema?: unknown): T {
    if (!this.codec) throw new ServiceError(GoErrorText.codecNotFound(this.message.serializeType));
    return this.codec.decode(this.message.payload, schema) as T;
  }

  write(reply: unknown, schema?: unknown): void {
    if (this.response) return;
    const req = this.message;
    const res = req.toResponse();
    res.metadata = this.responseMetadata;
    if (reply !== undefined) {
      if (!this.codec) return this.writeError(new ServiceError(GoErrorText.codecNotFound(req.serializeType)));
      setPayload(res, req, this.codec.encode(reply, schema));
    }
    this.response = res;
  }

  writeError(error: Error | string): void {
    if (this.response) return;
    this.error = typeof error === 'string' ? new Error(error) : error;
    this.response = errorResponse(this.message, this.error, this.responseMetadata, this.errorText);
  }
}

/**
 * The context for `req`: a handler's (bind / write) when a reflection-free handler is
 * registered for it, else the plain call context.
 */
export function callContext(
  server: ServerCore,
  req: Message,
  owner: ContextOwner,
  receivedAt: number,
): { ctx: CallContext; handler: Handler | undefined } {
  const handler = server.services.handler(req.servicePath, req.serviceMethod);
  const ctx = handler
    ? new HandlerCallContext(req, owner, receivedAt, server.codecs.get(req.serializeType), server.errorText)
    : new CallContext(req, owner, receivedAt);
  return { ctx, handler };
}

/**
 * Run one request past auth: the handler, or find, decode, preCall, method, postCall and
 * encode. Gives the response Go would send (the error response on failure) and the error.
 * Every entry point (rpcx frames, the HTTP gateway, JSON-RPC) dispatches through here.
 */
export function invoke(server: ServerCore, req: Message, ctx: CallContext, handler: Handler | undefined): Promise<{ res: Message; error?: Error }> {
  return handler ? runHandler(handler, ctx as HandlerCallContext) : callService(server, req, ctx);
}

/** Find, decode, run, encode: the response, or the error response Go would send. */
async function callService(server: ServerCore, req: Message, ctx: CallContext): Promise<{ res: Message; error?: Error }> {
  const failed = (error: Error) => ({ res: errorResponse(req, error, ctx.responseMetadata, server.errorText), error });
  const entry = server.services.lookup(req.servicePath, req.serviceMethod);
  if (typeof entry === 'string') return failed(new ServiceError(entry));
  const codec = server.codecs.get(req.serializeType);
  if (!codec) return failed(new ServiceError(GoErrorText.codecNotFound(req.serializeType)));

  let args: unknown;
  let reply: unknown;
  let error: Error | undefined;
  try {
    args = codec.decode(req.payload, entry.schema?.args);
    for (const p of server.plugins.with('preCall')) {
      args = await p.preCall(ctx, req.servicePath, req.serviceMethod, args);
    }
  } catch (err) {
    return failed(toError(err));
  }
  try {
    reply = entry.fn(args, ctx);
    if (isThenable(reply)) reply = await reply;
  } catch (err) {
    error = toError(err);
  }
  for (const p of server.plugins.with('postCall')) {
    try {
      reply = await p.postCall(ctx, req.servicePath, req.serviceMethod, args, reply, error);
    } catch (err) {
      error = toError(err);
    }
  }
  if (req.oneway) return { res: req.toResponse(), error };
  try {
    if (error) {
      const res = errorResponse(req, error, ctx.responseMetadata, server.errorText);
      // Go still sends a reply returned together with an error.
      if (error instanceof ServiceError && error.reply !== undefined) setPayload(res, req, codec.encode(error.reply, entry.schema?.reply));
      return { res, error };
    }
    const res = req.toResponse();
    res.metadata = ctx.responseMetadata;
    setPayload(res, req, codec.encode(reply, entry.schema?.reply));
    return { res };
  } catch (err) {
    return failed(toError(err));
  }
}

async function runHandler(handler: Handler, ctx: HandlerCallContext): Promise<{ res: Message; error?: Error }> {
  try {
    const r = handler(ctx);
    if (isThenable(r)) await r;
  } catch (err) {
    ctx.writeError(toError(err));
  }
  // A handler that wrote nothing still answers, so the caller is never left waiting.
  if (!ctx.response) ctx.write(undefined);
  return { res: ctx.response!, error: ctx.error };
}

/** Why reading from a connection is held; reading goes on only when nothing holds it. */
type Hold =
  /** The peer does not read: unsent bytes passed the high-water mark. */
  | 'writes'
  /** A frame is being admitted (inflated, read hooks, first auth); the next one waits. */
  | 'admit'
  /** The HTTP side's parser takes no more for now. */
  | 'http'
  /** Graceful shutdown: nothing new is read. */
  | 'shutdown';

const EMPTY = new Uint8Array(0);

/** The smaller of two limits where 0 means none. */
const tighter = (a: number, b: number): number => (a <= 0 ? b : b <= 0 ? a : Math.min(a, b));

/**
 * One accepted connection: decodes frames, runs each request, writes the responses, and keeps
 * the connection within the server's limits: reading stops while the peer does not take its
 * replies, a frame must complete in time, an idle connection is closed, a connection that has
 * not passed `auth` gets small frames and is read one call at a time.
 */
export class ServerConnection implements ContextOwner {
  private readonly decoder: FrameDecoder;
  private readonly limits: ServerLimits;
  private readonly watched = new Set<CallContext>();
  private readonly holds = new Set<Hold>();
  /** Passed `auth` once (or the server has none): frames may be as large as `maxMessageLength`. */
  private authenticated: boolean;
  /** A frame is being admitted: chunks that still arrive wait in `held`. */
  private admitting = false;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** Bytes of this connection counted in the server's budget. */
  private budgeted = 0;
  /** Calls running; a connection with none (and nothing to send) can be idle. */
  private calls = 0;
  private closing = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /**
   * When the frame now in the decoder began, or the connection was accepted while its first
   * frame is due (0: none, or not being read); checked by frameTimer.
   */
  private frameStartedAt = 0;
  private frameTimer: NodeJS.Timeout | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  /** Write-timeout clock: pendingBytes at the last check, bytes written since, when they last moved. */
  private pendingAtCheck = 0;
  private writtenSinceCheck = 0;
  private lastWriteProgress = 0;
  /** Pushes waiting for the peer to take the replies before them. */
  private writableWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  /** Gets each chunk: first `sniff`, then the rpcx decoder or the HTTP side. */
  private receive: (chunk: Uint8Array) => void = (chunk) => this.sniff(chunk);
  private foreign: ForeignConnectionSink | undefined;

  constructor(
    private readonly server: ServerCore,
    readonly connection: Connection,
  ) {
    const limits = server.limits;
    this.limits = limits;
    this.authenticated = !server.auth;
    this.decoder = new FrameDecoder({
      maxMessageLength: this.authenticated ? limits.maxMessageLength : tighter(limits.maxPreAuthLength, limits.maxMessageLength),
      maxMetadataKeys: limits.maxMetadataKeys,
      maxMetadataLength: limits.maxMetadataLength,
      // Inflated in `admit`: off the event loop, and capped small until auth has passed.
      decompress: false,
      compressors: server.compressors,
    });
    if (limits.idleTimeoutMs > 0) {
      this.idleTimer = setTimeout(this.onIdle, limits.idleTimeoutMs);
      this.idleTimer.unref();
    }
    // The first frame is due frameTimeoutMs after the accept, as a first HTTP head is in Node.
    if (limits.frameTimeoutMs > 0) {
      this.frameStartedAt = Date.now();
      this.armFrameTimer(limits.frameTimeoutMs);
    }
    connection.setHandler({
      onData: (chunk) => this.receive(chunk),
      onClose: (err) => this.onClose(err),
      onDrain: () => this.onDrain(),
    });
  }

  /**
   * The first chunk decides, as Go's cmux does: rpcx's magic byte (or no HTTP side) keeps
   * the connection rpcx; anything else that starts like an HTTP request is handed over.
   */
  private sniff(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const http = this.server.http;
    const sink = http && chunk[0] !== MAGIC_NUMBER ? http.adopt(this.connection, chunk, this.outlet()) : undefined;
    if (sink) {
      this.foreign = sink;
      // The HTTP side keeps its own deadlines from here.
      this.frameStartedAt = 0;
      this.receive = (c) => {
        this.idleTimer?.refresh();
        sink.data(c);
      };
    } else {
      this.receive = (c) => this.onData(c);
    }
    this.receive(chunk);
  }

  private outlet(): ConnectionOutlet {
    const holds = this.holds;
    return {
      write: (bytes) => this.send(bytes),
      get congested() {
        return holds.has('writes');
      },
      holdReading: (held) => (held ? this.hold('http') : this.release('http')),
    };
  }

  /** Stop reading new requests; in-flight ones still answer (graceful shutdown). */
  stopReading(): void {
    this.closing = true;
    this.hold('shutdown');
  }

  private onData(chunk: Uint8Array): void {
    this.idleTimer?.refresh();
    if (this.admitting) {
      // In flight when reading was held: decoded once the frame before is admitted.
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      this.account();
      return;
    }
    this.decode(chunk);
  }

  private decode(chunk: Uint8Array): void {
    let completed = false;
    try {
      this.decoder.push(chunk, (m) => {
        completed = true;
        return this.onFrame(m);
      });
    } catch (err) {
      // A malformed frame ends this connection only; the stream cannot be resynchronised.
      this.readFailed(toError(err));
      return;
    }
    this.account();
    this.clockFrame(completed);
  }

  /** A frame that cannot be read (or inflated): the postReadRequest hooks hear of it, then the connection closes. */
  private readFailed(err: Error): void {
    const error =
      !this.authenticated && err instanceof MessageTooLongError && err.limit !== this.limits.maxMessageLength
        ? new UnauthenticatedMessageTooLongError(err.length, err.limit)
        : err;
    for (const p of this.server.plugins.with('postReadRequest')) {
      try {
        p.postReadRequest(this.connection, undefined, error);
      } catch {
        // the connection is closing anyway
      }
    }
    this.fail(error);
  }

  /** Count what this connection holds for incomplete requests against the server's cap. */
  private account(): void {
    const now = this.decoder.pendingBytes + this.heldBytes;
    const delta = now - this.budgeted;
    if (delta === 0) return;
    this.budgeted = now;
    const budget = this.server.budget;
    if (!budget.adjust(delta)) this.fail(new ServerBufferFullError(budget.limit));
  }

  /**
   * A frame that has begun must complete within `frameTimeoutMs`, however its bytes trickle in.
   * Called after every chunk: it only notes the time, and one timer checks it.
   */
  private clockFrame(restart: boolean): void {
    const ms = this.limits.frameTimeoutMs;
    if (ms <= 0) return;
    // Time spent not reading (held) is not the peer's doing.
    if (this.decoder.pendingBytes === 0 || this.holds.size > 0 || this.closed) {
      this.frameStartedAt = 0;
      return;
    }
    if (this.frameStartedAt !== 0 && !restart) return;
    this.frameStartedAt = Date.now();
    if (!this.frameTimer) this.armFrameTimer(ms);
  }

  private armFrameTimer(ms: number): void {
    this.frameTimer = setTimeout(this.checkFrame, ms);
    this.frameTimer.unref();
  }

  private readonly checkFrame = (): void => {
    this.frameTimer = undefined;
    if (this.frameStartedAt === 0 || this.closed) return;
    const ms = this.limits.frameTimeoutMs;
    const left = this.frameStartedAt + ms - Date.now();
    if (left > 0) this.armFrameTimer(left);
    else this.fail(new FrameTimeoutError(ms));
  };


  /** A decoded frame; false stops decoding until it has been admitted. */
  private onFrame(req: Message): boolean {
    if (this.closing) return false;
    const plugins = this.server.plugins;
    const hooks = plugins.with('preReadRequest').length > 0 || plugins.with('postReadRequest').length > 0;
    if (req.compressType === 0 && (this.authenticated || req.heartbeat) && !hooks) {
      this.start(req);
      return true;
    }
    this.admitting = true;
    this.hold('admit');
    void this.admit(req, hooks).then(
      (readOn) => readOn && this.endAdmit(),
      (err) => this.fail(toError(err)),
    );
    return false;
  }

  /**
   * What Go's read loop does for a frame before reading the next: inflate it (here on zlib's
   * thread pool, capped small until auth has passed), run the read hooks and, for the
   * connection's first call, auth. Resolves whether reading goes on.
   */
  private async admit(req: Message, hooks: boolean): Promise<boolean> {
    if (req.compressType !== 0) {
      const limit = this.authenticated
        ? this.limits.maxDecompressedLength
        : tighter(this.limits.maxPreAuthLength, this.limits.maxDecompressedLength);
      try {
        await decompressPayload(req, this.server.compressors, limit);
      } catch (err) {
        this.readFailed(toError(err));
        return false;
      }
    }
    if (this.closing || this.closed) return false;
    if (hooks && !(await this.readHooks(req))) return !this.closed;
    if (this.authenticated || req.heartbeat) {
      this.start(req);
      return true;
    }
    // The first call: nothing more is read until it has passed auth.
    const { ctx, handler } = callContext(this.server, req, this, Date.now());
    this.callStarted();
    if (!(await this.authorize(req, ctx))) {
      this.callEnded(ctx);
      return false;
    }
    this.authenticated = true;
    this.decoder.maxMessageLength = this.limits.maxMessageLength;
    void this.run(req, ctx, handler).finally(() => this.callEnded(ctx));
    return true;
  }

  /** Frames left in the decoder, then chunks that came meanwhile, until one needs admitting. */
  private endAdmit(): void {
    this.admitting = false;
    this.decode(EMPTY);
    while (!this.admitting && this.held.length > 0 && !this.closed) {
      const chunk = this.held.shift()!;
      this.heldBytes -= chunk.length;
      this.decode(chunk);
    }
    if (!this.admitting) this.release('admit');
  }

  /** Go's PreReadRequest / PostReadRequest: an error closes the connection, a rate limit is answered. */
  private async readHooks(req: Message): Promise<boolean> {
    try {
      for (const p of this.server.plugins.with('preReadRequest')) await p.preReadRequest(this.connection);
      for (const p of this.server.plugins.with('postReadRequest')) await p.postReadRequest(this.connection, req, undefined);
      return true;
    } catch (err) {
      if (err instanceof RateLimitError) {
        if (!req.oneway) this.write(errorResponse(req, err, undefined, this.server.errorText));
        return false;
      }
      throw err;
    }
  }

  /** A heartbeat, or a call of a connection past its first auth. */
  private start(req: Message): void {
    if (req.heartbeat) {
      void this.heartbeat(req);
      return;
    }
    const { ctx, handler } = callContext(this.server, req, this, Date.now());
    this.callStarted();
    void this.serve(req, ctx, handler).finally(() => this.callEnded(ctx));
  }

  private callStarted(): void {
    this.calls++;
    this.server.callStarted();
  }

  private callEnded(ctx: CallContext): void {
    ctx.finish();
    this.calls--;
    this.server.callEnded();
  }

  /** Heartbeats skip auth, run the heartbeat hooks, and are echoed as they came. */
  private async heartbeat(req: Message): Promise<void> {
    try {
      for (const p of this.server.plugins.with('heartbeat')) await p.heartbeat(this.connection, req);
    } catch (err) {
      this.server.logger.warn(`rpcx: heartbeat plugin: ${toError(err).message}`);
    }
    const res = new Message(req);
    res.isResponse = true;
    this.write(res);
  }

  private async serve(req: Message, ctx: CallContext, handler: Handler | undefined): Promise<void> {
    if (this.server.auth && !(await this.authorize(req, ctx))) return;
    await this.run(req, ctx, handler);
  }

  /** The server's auth on this request. Go answers a refusal (unless oneway), then closes the connection. */
  private async authorize(req: Message, ctx: CallContext): Promise<boolean> {
    try {
      const r = this.server.auth!(ctx, req.metadata[MetaKey.Auth]);
      if (isThenable(r)) await r;
      return true;
    } catch (err) {
      if (!req.oneway) this.write(errorResponse(req, toError(err), undefined, this.server.errorText));
      void this.connection.close();
      return false;
    }
  }

  /** Past auth: preHandleRequest, the call, the response. */
  private async run(req: Message, ctx: CallContext, handler: Handler | undefined): Promise<void> {
    const server = this.server;
    for (const p of server.plugins.with('preHandleRequest')) {
      try {
        await p.preHandleRequest(ctx);
      } catch (err) {
        server.logger.warn(`rpcx: preHandleRequest: ${toError(err).message}`); // ignored, as Go does
      }
    }
    const { res, error } = await invoke(server, req, ctx, handler);
    await this.respond(ctx, req, req.oneway ? undefined : res, error);
  }

  private async respond(ctx: CallContext, req: Message, res: Message | undefined, error: Error | undefined): Promise<void> {
    const plugins = this.server.plugins;
    for (const p of plugins.with('preWriteResponse')) {
      try {
        await p.preWriteResponse(ctx, req, res, error);
      } catch (err) {
        this.server.logger.warn(`rpcx: preWriteResponse: ${toError(err).message}`);
      }
    }
    if (res) this.write(res);
    for (const p of plugins.with('postWriteResponse')) {
      try {
        await p.postWriteResponse(ctx, req, res, error);
      } catch (err) {
        this.server.logger.warn(`rpcx: postWriteResponse: ${toError(err).message}`);
      }
    }
  }

  private write(res: Message): void {
    if (this.connection.closed) return;
    let frame: Uint8Array;
    try {
      frame = encodeMessage(res, this.server.compressors);
    } catch (err) {
      // An unencodable response becomes an error response rather than a silent drop.
      const fallback = res.status === MessageStatus.Error ? undefined : this.errorResponseFrom(res, toError(err));
      if (!fallback) return;
      frame = encodeMessage(fallback, this.server.compressors);
    }
    this.send(frame);
  }

  private errorResponseFrom(res: Message, error: Error): Message {
    const e = new Message(res);
    e.payload = new Uint8Array(0);
    e.compressType = 0;
    e.status = MessageStatus.Error;
    e.metadata = newMetadata({ [MetaKey.ServiceError]: error.message });
    return e;
  }

  /**
   * Every byte this connection sends goes out here: past `writeHighWaterMark` unsent, reading
   * stops until the peer has taken them (`onDrain`), and unsent bytes that do not move for
   * `writeTimeoutMs` close the connection.
   */
  send(bytes: Uint8Array): void {
    if (this.connection.closed) return;
    this.connection.write(bytes);
    this.writtenSinceCheck += bytes.length;
    if (this.connection.pendingBytes >= this.limits.writeHighWaterMark) this.hold('writes');
    if (!this.writeTimer && this.limits.writeTimeoutMs > 0) {
      this.lastWriteProgress = Date.now();
      this.pendingAtCheck = this.connection.pendingBytes;
      this.writtenSinceCheck = 0;
      this.armWriteClock();
    }
  }

  /** Resolves when this connection takes more writes: at once, or when the peer has read enough. */
  writable(): Promise<void> {
    if (this.closed) return Promise.reject(new ShutdownError());
    if (!this.holds.has('writes')) return Promise.resolve();
    return new Promise((resolve, reject) => this.writableWaiters.push({ resolve, reject }));
  }

  private armWriteClock(): void {
    this.writeTimer = setTimeout(this.checkWrites, Math.max(1, this.limits.writeTimeoutMs / 4));
    this.writeTimer.unref();
  }

  /** Whether unsent bytes moved since the last check: bytes sent = pending before + written since - pending now. */
  private readonly checkWrites = (): void => {
    this.writeTimer = undefined;
    if (this.closed) return;
    const pending = this.connection.pendingBytes;
    // Everything went out: the clock stops until the next write.
    if (pending === 0) return;
    const now = Date.now();
    if (this.pendingAtCheck + this.writtenSinceCheck - pending > 0) this.lastWriteProgress = now;
    else if (now - this.lastWriteProgress >= this.limits.writeTimeoutMs) {
      this.fail(new WriteTimeoutError(this.limits.writeTimeoutMs));
      return;
    }
    this.pendingAtCheck = pending;
    this.writtenSinceCheck = 0;
    this.armWriteClock();
  };

  private onDrain(): void {
    if (this.connection.pendingBytes >= this.limits.writeHighWaterMark) return;
    this.release('writes');
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w.resolve();
    this.foreign?.drained();
  }

  private hold(reason: Hold): void {
    if (this.holds.has(reason)) return;
    this.holds.add(reason);
    if (this.holds.size === 1) {
      this.connection.pauseReading();
      this.frameStartedAt = 0;
    }
  }

  private release(reason: Hold): void {
    if (!this.holds.delete(reason) || this.holds.size > 0 || this.closed) return;
    this.connection.resumeReading();
    // A frame already begun gets a fresh deadline: the time held was not the peer's.
    if (!this.foreign) this.clockFrame(true);
  }

  /** Idle: nothing received for `idleTimeoutMs`, no call running, nothing being admitted or sent. */
  private readonly onIdle = (): void => {
    if (this.closed) return;
    if (this.calls > 0 || this.admitting || this.foreign?.busy || this.connection.pendingBytes > 0) {
      this.idleTimer!.refresh();
      return;
    }
    this.fail(new IdleTimeoutError(this.limits.idleTimeoutMs));
  };

  push(servicePath: string, serviceMethod: string, payload: Uint8Array | string, metadata?: Metadata): Promise<void> {
    return this.server.sendMessage(this.connection, servicePath, serviceMethod, metadata, payload);
  }

  watch(ctx: CallContext): void {
    this.watched.add(ctx);
  }

  unwatch(ctx: CallContext): void {
    this.watched.delete(ctx);
  }

  /** Close the connection for `error` (logged; `onClose` and the connClose hooks follow). */
  private fail(error: Error): void {
    if (this.closed) return;
    this.server.logger.warn(`rpcx: closing ${this.connection.remoteAddress}: ${error.message}`);
    this.connection.destroy(error);
  }

  private onClose(error?: Error): void {
    this.closed = true;
    this.foreign?.closed(error);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.writeTimer) clearTimeout(this.writeTimer);
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.server.budget.adjust(-this.budgeted);
    this.budgeted = 0;
    this.held = [];
    this.heldBytes = 0;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w.reject(new ShutdownError({ cause: error }));
    for (const ctx of this.watched) ctx.connectionLost(error);
    this.watched.clear();
    this.server.connectionClosed(this);
  }
}
