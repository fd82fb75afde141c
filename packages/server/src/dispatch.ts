/**
 * Request dispatch: what happens to one request once it has been read, whichever way it came
 * in (rpcx frames, the HTTP gateway, JSON-RPC). Connection I/O is in `connection.ts`.
 */
import {
  COMPRESS_THRESHOLD,
  ConfigError,
  GoErrorText,
  MessageStatus,
  MetaKey,
  ServiceError,
  newMetadata,
  type Codec,
  type Connection,
  type Logger,
  type Metadata,
  type RequestContext,
  type ServerCall,
  type ServerCallFn,
  type ServerCallProtocol,
  type ServerCallResult,
  type ServerInterceptor,
  type ServerPlugin,
} from '@rpcx/core';
import type { CodecRegistry, Message } from '@rpcx/protocol';
import { CallContext, HandlerCallContext, type CallOrigin } from './context.js';
import type { PluginContainer } from './plugins.js';
import type { CallDispatcher } from './protocol.js';
import type { Handler, MethodEntry, ServiceTable } from './service.js';

/** `ServerOptions.auth`. */
export type AuthFunction = (ctx: RequestContext, token: string | undefined) => void | Promise<void>;
/** `ServerOptions.errorText`. */
export type ErrorTextFunction = (response: Message, error: Error) => string;

/** What calls are dispatched with; fixed when the Server is built. */
export interface DispatcherOptions {
  readonly services: ServiceTable;
  readonly codecs: CodecRegistry;
  readonly plugins: PluginContainer;
  readonly logger: Logger;
  readonly auth: AuthFunction | undefined;
  readonly errorText: ErrorTextFunction | undefined;
  readonly interceptors: readonly ServerInterceptor[];
}

export const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';

/**
 * A thrown value as an Error. Go's methods and hooks return errors; JavaScript may throw
 * anything, and a non-Error is taken as the service's error text.
 */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new ServiceError(String(value), { cause: value });
}

const EMPTY = new Uint8Array(0);

/** Compress like Go: only above 1024 bytes and only when the request was compressed. */
function setPayload(res: Message, req: Message, payload: Uint8Array): void {
  res.payload = payload;
  if (req.compressType !== 0 && payload.length > COMPRESS_THRESHOLD) res.compressType = req.compressType;
}

/** What a call is for: a reflection-free handler, a service method, or Go's text saying what is missing. */
type Target = Handler | MethodEntry | string;

/** One call in flight: what interceptors see, and what the dispatcher runs it with. */
export class Call implements ServerCall {
  /** The args, once decoded or assigned. */
  private chosenArgs: { value: unknown } | undefined;

  constructor(
    readonly protocol: ServerCallProtocol,
    readonly context: CallContext,
    readonly target: Target,
    readonly codec: Codec | undefined,
  ) {}

  get message(): Message {
    return this.context.message;
  }
  get servicePath(): string {
    return this.context.message.servicePath;
  }
  get serviceMethod(): string {
    return this.context.message.serviceMethod;
  }
  get metadata(): Metadata {
    return this.context.message.metadata;
  }
  get remoteAddress(): string {
    return this.context.remoteAddress;
  }
  get serializeType(): number {
    return this.context.message.serializeType;
  }
  get oneway(): boolean {
    return this.context.message.oneway;
  }
  get payload(): Uint8Array {
    return this.context.message.payload;
  }

  get args(): unknown {
    this.chosenArgs ??= { value: this.decodeArgs() };
    return this.chosenArgs.value;
  }

  set args(value: unknown) {
    this.chosenArgs = { value };
    if (this.context instanceof HandlerCallContext) this.context.boundArgs = this.chosenArgs;
  }

  private decodeArgs(): unknown {
    const target = this.target;
    if (typeof target === 'string') throw new ServiceError(target);
    if (!this.codec) throw new ServiceError(GoErrorText.codecNotFound(this.serializeType));
    return this.codec.decode(this.payload, typeof target === 'function' ? undefined : target.schema?.args);
  }
}

/**
 * Runs calls: auth, the interceptor chain around `preHandleRequest`, decode, `preCall`, the
 * method, `postCall` and encode, the write hooks, and the count of calls in flight that
 * graceful shutdown waits for. One per Server.
 */
export class Dispatcher implements CallDispatcher {
  /**
   * The interceptors around `invoke`, composed once (the first is the outermost); without
   * interceptors `invoke` itself, which answers a synchronous method without a promise.
   */
  private readonly chain: (call: ServerCall) => ServerCallResult | Promise<ServerCallResult>;
  private inFlight = 0;
  /** Resolves the wait of `whenIdle`, when one is pending. */
  private idle: (() => void) | undefined;

  constructor(private readonly options: DispatcherOptions) {
    const interceptors = options.interceptors;
    if (interceptors.length === 0) {
      this.chain = (call) => this.invoke(call);
    } else {
      // Interceptors are promised a promise from next().
      const last: ServerCallFn = async (call) => this.invoke(call);
      this.chain = interceptors.reduceRight<ServerCallFn>((next, intercept) => intercept(next), last);
    }
  }

  /** Whether a plugin has a preWriteResponse or postWriteResponse hook (else the write skips them). */
  get hasWriteHooks(): boolean {
    const plugins = this.options.plugins;
    return plugins.hooks.preWriteResponse.length > 0 || plugins.hooks.postWriteResponse.length > 0;
  }

  /** Calls started and not yet ended. */
  get calls(): number {
    return this.inFlight;
  }

  async preReadRequest(connection: Connection): Promise<Error | undefined> {
    try {
      for (const p of this.options.plugins.hooks.preReadRequest) await p.preReadRequest(connection);
      return undefined;
    } catch (err) {
      return asError(err);
    }
  }

  async postReadRequest(connection: Connection, request: Message): Promise<Error | undefined> {
    try {
      for (const p of this.options.plugins.hooks.postReadRequest) await p.postReadRequest(connection, request, undefined);
      return undefined;
    } catch (err) {
      return asError(err);
    }
  }

  startCall(request: Message, origin: CallOrigin, protocol: ServerCallProtocol, receivedAt = Date.now()): Call {
    const { services, codecs } = this.options;
    const codec = codecs.get(request.serializeType);
    const handler = services.handler(request.servicePath, request.serviceMethod);
    const call = handler
      ? new Call(protocol, new HandlerCallContext(request, origin, receivedAt, codec), handler, codec)
      : new Call(protocol, new CallContext(request, origin, receivedAt), services.lookup(request.servicePath, request.serviceMethod), codec);
    this.inFlight++;
    return call;
  }

  endCall(call: ServerCall): void {
    (call as Call).context.finish();
    if (--this.inFlight === 0) this.idle?.();
  }

  /** Resolves once no call is in flight, or after `timeoutMs`, or when `signal` aborts. */
  whenIdle(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.idle = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.idle = done;
    });
  }

  async authorize(call: ServerCall): Promise<Error | undefined> {
    const auth = this.options.auth;
    if (!auth) return undefined;
    try {
      const r = auth(call.context, call.metadata[MetaKey.Auth]);
      if (isThenable(r)) await r;
      return undefined;
    } catch (err) {
      return asError(err);
    }
  }

  async handle(call: ServerCall): Promise<ServerCallResult> {
    return this.handleNow(call);
  }

  /**
   * `handle`, without a promise when the call completes at once (no interceptors, no async
   * hooks, a method that returns a value): rpcx connections answer such calls in the same turn.
   */
  handleNow(call: ServerCall): ServerCallResult | Promise<ServerCallResult> {
    let result: ServerCallResult | Promise<ServerCallResult>;
    try {
      result = this.chain(call);
    } catch (err) {
      return failed(call, asError(err));
    }
    return isThenable(result) ? Promise.resolve(result).catch((err: unknown) => failed(call, asError(err))) : result;
  }

  response(call: ServerCall, result: ServerCallResult): Message {
    const req = (call as Call).message;
    if (result.error) {
      const res = this.errorResponse(req, result.error, result.metadata);
      // Go still sends a reply returned together with an error.
      if (result.payload.length > 0) setPayload(res, req, result.payload);
      return res;
    }
    const res = req.toResponse(result.metadata);
    setPayload(res, req, result.payload);
    return res;
  }

  /** Go's handleError: status Error and `__rpcx_error__` (or `errorText`), on top of `metadata`. */
  errorResponse(req: Message, error: Error, metadata: Metadata = newMetadata()): Message {
    const res = req.toResponse(metadata);
    res.status = MessageStatus.Error;
    const errorText = this.options.errorText;
    res.metadata[MetaKey.ServiceError] = errorText ? errorText(res, error) : error.message;
    return res;
  }

  preWriteResponse(call: ServerCall, response: Message | undefined, error: Error | undefined): Promise<void> {
    return this.writeHooks('preWriteResponse', call, response, error);
  }

  postWriteResponse(call: ServerCall, response: Message | undefined, error: Error | undefined): Promise<void> {
    return this.writeHooks('postWriteResponse', call, response, error);
  }

  private async writeHooks(
    hook: 'preWriteResponse' | 'postWriteResponse',
    call: ServerCall,
    response: Message | undefined,
    error: Error | undefined,
  ): Promise<void> {
    // The two hooks take the same arguments.
    for (const p of this.options.plugins.hooks[hook] as Required<Pick<ServerPlugin, typeof hook>>[]) {
      try {
        await p[hook](call.context, (call as Call).message, response, error);
      } catch (err) {
        this.options.logger.warn(`rpcx: ${hook}: ${asError(err).message}`); // ignored, as Go does
      }
    }
  }

  /** The end of the chain: what Go's handleRequest does, hooks included. */
  private invoke(given: ServerCall): ServerCallResult | Promise<ServerCallResult> {
    if (!(given instanceof Call)) throw new ConfigError('a server interceptor must pass on the call it was given to next()');
    const call = given;
    if (this.options.plugins.hooks.preHandleRequest.length > 0) return this.preHandleThenTarget(call);
    return this.callTarget(call);
  }

  private async preHandleThenTarget(call: Call): Promise<ServerCallResult> {
    for (const p of this.options.plugins.hooks.preHandleRequest) {
      try {
        await p.preHandleRequest(call.context);
      } catch (err) {
        this.options.logger.warn(`rpcx: preHandleRequest: ${asError(err).message}`); // ignored, as Go does
      }
    }
    return this.callTarget(call);
  }

  private callTarget(call: Call): ServerCallResult | Promise<ServerCallResult> {
    const target = call.target;
    if (typeof target === 'function') return runHandler(target, call.context as HandlerCallContext);
    if (typeof target === 'string') return failed(call, new ServiceError(target));
    const codec = call.codec;
    if (!codec) return failed(call, new ServiceError(GoErrorText.codecNotFound(call.serializeType)));
    return this.callMethod(call, target, codec);
  }

  /**
   * Decode, the method, encode: synchronously when no plugin has preCall or postCall and the
   * method returns a value rather than a promise (Go's order and errors either way).
   */
  private callMethod(call: Call, entry: MethodEntry, codec: Codec): ServerCallResult | Promise<ServerCallResult> {
    const { plugins } = this.options;
    if (plugins.hooks.preCall.length > 0 || plugins.hooks.postCall.length > 0) return this.callMethodWithHooks(call, entry, codec);
    let args: unknown;
    try {
      args = call.args;
    } catch (err) {
      return failed(call, asError(err));
    }
    let reply: unknown;
    try {
      reply = entry.fn(args, call.context);
    } catch (err) {
      return this.encodeResult(call, entry, codec, undefined, asError(err));
    }
    if (!isThenable(reply)) return this.encodeResult(call, entry, codec, reply, undefined);
    return Promise.resolve(reply).then(
      (value) => this.encodeResult(call, entry, codec, value, undefined),
      (err: unknown) => this.encodeResult(call, entry, codec, undefined, asError(err)),
    );
  }

  /** The reply (or the reply sent next to an error) encoded, as Go's handleRequest does after the call. */
  private encodeResult(call: Call, entry: MethodEntry, codec: Codec, reply: unknown, error: Error | undefined): ServerCallResult {
    const metadata = call.context.responseMetadata;
    if (call.oneway) return error ? { payload: EMPTY, error, metadata } : { payload: EMPTY, reply, metadata };
    try {
      if (error) {
        const alongside = error instanceof ServiceError && error.reply !== undefined;
        return { payload: alongside ? codec.encode((error as ServiceError).reply, entry.schema?.reply) : EMPTY, error, metadata };
      }
      return { payload: codec.encode(reply, entry.schema?.reply), reply, metadata };
    } catch (err) {
      return failed(call, asError(err));
    }
  }

  /** `callMethod` with the preCall / postCall hooks around the method. */
  private async callMethodWithHooks(call: Call, entry: MethodEntry, codec: Codec): Promise<ServerCallResult> {
    const { plugins } = this.options;
    const ctx = call.context;
    let args: unknown;
    try {
      args = call.args;
      for (const p of plugins.hooks.preCall) {
        // Returning nothing keeps the args: a forgotten `return` must not erase them.
        const replaced = await p.preCall(ctx, call.servicePath, call.serviceMethod, args);
        if (replaced !== undefined) args = replaced;
      }
    } catch (err) {
      return failed(call, asError(err));
    }
    let reply: unknown;
    let error: Error | undefined;
    try {
      reply = entry.fn(args, ctx);
      if (isThenable(reply)) reply = await reply;
    } catch (err) {
      error = asError(err);
    }
    for (const p of plugins.hooks.postCall) {
      try {
        const replaced = await p.postCall(ctx, call.servicePath, call.serviceMethod, args, reply, error);
        if (replaced !== undefined) reply = replaced;
      } catch (err) {
        error = asError(err);
      }
    }
    return this.encodeResult(call, entry, codec, reply, error);
  }
}

function failed(call: ServerCall, error: Error): ServerCallResult {
  return { payload: EMPTY, error, metadata: call.context.responseMetadata };
}

function runHandler(handler: Handler, ctx: HandlerCallContext): ServerCallResult | Promise<ServerCallResult> {
  let r: unknown;
  try {
    r = handler(ctx);
  } catch (err) {
    ctx.writeError(asError(err));
    return handlerResult(ctx);
  }
  if (!isThenable(r)) return handlerResult(ctx);
  return Promise.resolve(r).then(
    () => handlerResult(ctx),
    (err: unknown) => {
      ctx.writeError(asError(err));
      return handlerResult(ctx);
    },
  );
}

function handlerResult(ctx: HandlerCallContext): ServerCallResult {
  // A handler that wrote nothing still answers, so the caller is never left waiting.
  if (!ctx.answered) ctx.write(undefined);
  return ctx.error ? { payload: EMPTY, error: ctx.error, metadata: ctx.responseMetadata } : { payload: ctx.reply, metadata: ctx.responseMetadata };
}
