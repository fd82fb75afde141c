import {
  COMPRESS_THRESHOLD,
  MAGIC_NUMBER,
  MessageStatus,
  MetaKey,
  GoErrorText,
  RateLimitError,
  ServiceError,
  newMetadata,
  type Codec,
  type Connection,
  type Logger,
  type Metadata,
  type RequestContext,
} from '@rpcx/core';
import { FrameDecoder, Message, encodeMessage, type CodecRegistry, type CompressorRegistry } from '@rpcx/protocol';
import { CallContext, type ContextOwner, type HandlerContext } from './context.js';
import type { Handler } from './service.js';
import type { PluginContainer } from './plugins.js';
import type { ServiceTable } from './service.js';

/**
 * Where a connection goes whose first byte is not rpcx's magic (the HTTP gateway and
 * JSON-RPC, see `http/front.ts`).
 */
export interface ForeignProtocols {
  /** Take `connection` over when its first chunk is for this; undefined leaves it to rpcx. */
  adopt(connection: Connection, first: Uint8Array): ForeignConnectionSink | undefined;
}

/** What receives the bytes and the close of a connection taken over by `ForeignProtocols`. */
export interface ForeignConnectionSink {
  data(chunk: Uint8Array): void;
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
  readonly maxMessageLength: number | undefined;
  readonly maxDecompressedLength: number | undefined;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
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

/** One accepted connection: decodes frames, runs each request, writes the responses. */
export class ServerConnection implements ContextOwner {
  private readonly decoder: FrameDecoder;
  private readonly watched = new Set<CallContext>();
  private readTimer: NodeJS.Timeout | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** Gets each chunk: first `sniff`, then the rpcx decoder or the HTTP side. */
  private receive: (chunk: Uint8Array) => void = (chunk) => this.sniff(chunk);
  private foreign: ForeignConnectionSink | undefined;

  constructor(
    private readonly server: ServerCore,
    readonly connection: Connection,
  ) {
    this.decoder = new FrameDecoder({
      maxMessageLength: server.maxMessageLength,
      maxDecompressedLength: server.maxDecompressedLength,
      compressors: server.compressors,
    });
    if (server.readTimeoutMs > 0) {
      this.readTimer = setTimeout(() => this.fail(new Error('read timeout')), server.readTimeoutMs);
      this.readTimer.unref();
    }
    connection.setHandler({
      onData: (chunk) => this.receive(chunk),
      onClose: (err) => this.onClose(err),
    });
  }

  /**
   * The first chunk decides, as Go's cmux does: rpcx's magic byte (or no HTTP side) keeps
   * the connection rpcx; anything else that starts like an HTTP request is handed over.
   */
  private sniff(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const http = this.server.http;
    const sink = http && chunk[0] !== MAGIC_NUMBER ? http.adopt(this.connection, chunk) : undefined;
    if (sink) {
      this.foreign = sink;
      this.receive = (c) => {
        this.readTimer?.refresh();
        sink.data(c);
      };
    } else {
      this.receive = (c) => this.onData(c);
    }
    this.receive(chunk);
  }

  /** Stop reading new requests; in-flight ones still answer (graceful shutdown). */
  stopReading(): void {
    this.closing = true;
    this.connection.pauseReading();
  }

  private onData(chunk: Uint8Array): void {
    this.readTimer?.refresh();
    try {
      this.decoder.push(chunk, (m) => this.onMessage(m));
    } catch (err) {
      // A malformed frame ends this connection only; the stream cannot be resynchronised.
      const error = toError(err);
      this.server.logger.warn(`rpcx: closing ${this.connection.remoteAddress}: ${error.message}`);
      for (const p of this.server.plugins.with('postReadRequest')) {
        try {
          p.postReadRequest(this.connection, undefined, error);
        } catch {
          // the connection is closing anyway
        }
      }
      this.fail(error);
    }
  }

  private onMessage(req: Message): void {
    if (this.closing) return;
    const plugins = this.server.plugins;
    if (plugins.with('preReadRequest').length > 0 || plugins.with('postReadRequest').length > 0) {
      void this.readHooks(req).then((ok) => ok && this.handle(req), (err) => this.fail(toError(err)));
      return;
    }
    this.handle(req);
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

  private handle(req: Message): void {
    if (req.heartbeat) {
      void this.heartbeat(req);
      return;
    }
    const { ctx, handler } = callContext(this.server, req, this, Date.now());
    this.server.callStarted();
    void this.serve(req, ctx, handler).finally(() => {
      ctx.finish();
      this.server.callEnded();
    });
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
    const server = this.server;
    if (server.auth) {
      try {
        const r = server.auth(ctx, req.metadata[MetaKey.Auth]);
        if (isThenable(r)) await r;
      } catch (err) {
        // Go answers (unless oneway) and then closes the connection.
        if (!req.oneway) this.write(errorResponse(req, toError(err), undefined, this.server.errorText));
        void this.connection.close();
        return;
      }
    }
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
    this.connection.write(frame);
    this.armWriteTimer();
  }

  private errorResponseFrom(res: Message, error: Error): Message {
    const e = new Message(res);
    e.payload = new Uint8Array(0);
    e.compressType = 0;
    e.status = MessageStatus.Error;
    e.metadata = newMetadata({ [MetaKey.ServiceError]: error.message });
    return e;
  }

  /** A peer that stops reading must not hold queued responses forever. */
  private armWriteTimer(): void {
    const ms = this.server.writeTimeoutMs;
    if (ms <= 0 || this.writeTimer) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      if (this.connection.pendingBytes > 0) this.fail(new Error('write timeout'));
    }, ms);
    this.writeTimer.unref();
  }

  push(servicePath: string, serviceMethod: string, payload: Uint8Array | string, metadata?: Metadata): Promise<void> {
    return this.server.sendMessage(this.connection, servicePath, serviceMethod, metadata, payload);
  }

  watch(ctx: CallContext): void {
    this.watched.add(ctx);
  }

  unwatch(ctx: CallContext): void {
    this.watched.delete(ctx);
  }

  private fail(error: Error): void {
    this.connection.destroy(error);
  }

  private onClose(error?: Error): void {
    this.foreign?.closed(error);
    if (this.readTimer) clearTimeout(this.readTimer);
    if (this.writeTimer) clearTimeout(this.writeTimer);
    for (const ctx of this.watched) ctx.connectionLost(error);
    this.watched.clear();
    this.server.connectionClosed(this);
  }
}
