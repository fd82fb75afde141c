/**
 * Connection I/O: one accepted connection read frame by frame, its responses written, and the
 * server's limits kept on it (back-pressure, deadlines, pre-auth limits, inflation off the
 * event loop). What a request does once read is `dispatch.ts`'s.
 */
import {
  FrameTimeoutError,
  IdleTimeoutError,
  MAGIC_NUMBER,
  MessageStatus,
  MessageTooLongError,
  MetaKey,
  RateLimitError,
  ServerBufferFullError,
  ShutdownError,
  UnauthenticatedMessageTooLongError,
  WriteTimeoutError,
  newMetadata,
  type Connection,
  type Metadata,
  type ServerCallResult,
} from '@rpcx/core';
import { FrameDecoder, Message, decompressPayload, encodeMessage } from '@rpcx/protocol';
import { ConnectionWatchers, type CallOrigin, type ConnectionWatcher } from './context.js';
import { asError, isThenable, type Call } from './dispatch.js';
import type { ServerLimits } from './limits.js';
import type { ConnectionOutlet, ForeignConnectionSink } from './protocol.js';
import type { ServerCore } from './server-core.js';

/** Why reading from a connection is held; reading goes on only when nothing holds it. */
type Hold =
  /** The peer does not read: unsent bytes passed the high-water mark. */
  | 'writes'
  /** A frame is being admitted (inflated, read hooks, first auth); the next one waits. */
  | 'admit'
  /** The foreign protocol (HTTP) takes no more for now. */
  | 'foreign'
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
export class ServerConnection implements CallOrigin {
  private readonly decoder: FrameDecoder;
  private readonly limits: ServerLimits;
  private readonly watchers = new ConnectionWatchers();
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
  /** Gets each chunk: first `sniff`, then the rpcx decoder or the foreign protocol. */
  private receive: (chunk: Uint8Array) => void = (chunk) => this.sniff(chunk);
  private foreign: ForeignConnectionSink | undefined;

  constructor(
    private readonly server: ServerCore,
    readonly connection: Connection,
  ) {
    const limits = server.limits;
    this.limits = limits;
    this.authenticated = !server.authRequired;
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
   * The first chunk decides, as Go's cmux does: rpcx's magic byte (or no foreign protocol)
   * keeps the connection rpcx; anything else the foreign protocol (HTTP) adopts goes there.
   */
  private sniff(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const foreign = this.server.foreign;
    const sink = foreign && chunk[0] !== MAGIC_NUMBER ? foreign.adopt(this.connection, chunk, this.outlet()) : undefined;
    if (sink) {
      this.foreign = sink;
      // The foreign protocol keeps its own deadlines from here.
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
      holdReading: (held) => (held ? this.hold('foreign') : this.release('foreign')),
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
      this.readFailed(asError(err));
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
    for (const p of this.server.plugins.hooks.postReadRequest) {
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
    const hooks = plugins.hooks.preReadRequest.length > 0 || plugins.hooks.postReadRequest.length > 0;
    if (req.compressType === 0 && (this.authenticated || req.heartbeat) && !hooks) {
      this.start(req);
      return true;
    }
    this.admitting = true;
    this.hold('admit');
    void this.admit(req, hooks).then(
      (readOn) => readOn && this.endAdmit(),
      (err) => this.fail(asError(err)),
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
        this.readFailed(asError(err));
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
    const call = this.startCall(req);
    if (!(await this.authorize(call))) {
      this.endCall(call);
      return false;
    }
    this.authenticated = true;
    this.decoder.maxMessageLength = this.limits.maxMessageLength;
    this.run(call);
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
    const dispatcher = this.server.dispatcher;
    const error = (await dispatcher.preReadRequest(this.connection)) ?? (await dispatcher.postReadRequest(this.connection, req));
    if (!error) return true;
    if (!(error instanceof RateLimitError)) throw error;
    if (!req.oneway) this.write(dispatcher.errorResponse(req, error));
    return false;
  }

  /** A heartbeat, or a call of a connection past its first auth. */
  private start(req: Message): void {
    if (req.heartbeat) {
      void this.heartbeat(req);
      return;
    }
    const call = this.startCall(req);
    if (!this.server.authRequired) {
      this.run(call);
      return;
    }
    void this.authorize(call).then(
      (ok) => (ok ? this.run(call) : this.endCall(call)),
      (err) => {
        this.endCall(call);
        this.fail(asError(err));
      },
    );
  }

  private startCall(req: Message): Call {
    this.calls++;
    return this.server.dispatcher.startCall(req, this, 'rpcx');
  }

  private endCall(call: Call): void {
    this.calls--;
    this.server.dispatcher.endCall(call);
  }

  /** Heartbeats skip auth, run the heartbeat hooks, and are echoed as they came. */
  private async heartbeat(req: Message): Promise<void> {
    try {
      for (const p of this.server.plugins.hooks.heartbeat) await p.heartbeat(this.connection, req);
    } catch (err) {
      this.server.logger.warn(`rpcx: heartbeat plugin: ${asError(err).message}`);
    }
    const res = new Message(req);
    res.isResponse = true;
    this.write(res);
  }

  /** The server's auth on this request. Go answers a refusal (unless oneway), then closes the connection. */
  private async authorize(call: Call): Promise<boolean> {
    const refused = await this.server.dispatcher.authorize(call);
    if (!refused) return true;
    if (!call.oneway) this.write(this.server.dispatcher.errorResponse(call.message, refused));
    void this.connection.close();
    return false;
  }

  /**
   * Past auth: the call through the interceptors to the method, then the response, and the
   * call's end. A call that completes at once (see `Dispatcher.handleNow`) is answered in this
   * turn, without a promise: most calls are, and each promise costs allocations and a turn.
   */
  private run(call: Call): void {
    const result = this.server.dispatcher.handleNow(call);
    if (isThenable(result)) {
      result.then(
        (r) => this.respond(call, r),
        (err: unknown) => this.callFailed(call, err),
      );
    } else {
      this.respond(call, result);
    }
  }

  /** Write the response of a handled call (with the write hooks around it, if any), then end the call. */
  private respond(call: Call, result: ServerCallResult): void {
    const dispatcher = this.server.dispatcher;
    let res: Message | undefined;
    try {
      res = call.oneway ? undefined : dispatcher.response(call, result);
      if (!dispatcher.hasWriteHooks) {
        if (res) this.write(res);
        this.endCall(call);
        return;
      }
    } catch (err) {
      this.callFailed(call, err);
      return;
    }
    void this.respondWithHooks(call, res, result.error).then(
      () => this.endCall(call),
      (err: unknown) => this.callFailed(call, err),
    );
  }

  private async respondWithHooks(call: Call, res: Message | undefined, error: Error | undefined): Promise<void> {
    const dispatcher = this.server.dispatcher;
    await dispatcher.preWriteResponse(call, res, error);
    if (res) this.write(res);
    await dispatcher.postWriteResponse(call, res, error);
  }

  /** A response that could not be made (a throwing `errorText`, …): the call ends unanswered, the server goes on. */
  private callFailed(call: Call, err: unknown): void {
    this.server.logger.warn(`rpcx: ${call.servicePath}.${call.serviceMethod}: no response: ${asError(err).message}`);
    this.endCall(call);
  }

  private write(res: Message): void {
    if (this.connection.closed) return;
    let frame: Uint8Array;
    try {
      frame = encodeMessage(res, this.server.compressors);
    } catch (err) {
      // An unencodable response becomes an error response rather than a silent drop.
      const fallback = res.status === MessageStatus.Error ? undefined : this.errorResponseFrom(res, asError(err));
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

  watch(watcher: ConnectionWatcher): void {
    this.watchers.watch(watcher);
  }

  unwatch(watcher: ConnectionWatcher): void {
    this.watchers.unwatch(watcher);
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
    this.watchers.lost(error);
    this.server.connectionClosed(this);
  }
}
