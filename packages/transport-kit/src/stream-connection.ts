import { ConfigError, DRAIN_NOTICE_BYTES, type Connection, type ConnectionHandler } from '@rpcx/core';

/**
 * Frames of one turn are joined into one stream write while the write stays under this size;
 * a frame at least this big goes alone, uncopied. Every stream write costs a promise and a
 * trip into the library underneath, so fewer, larger writes are much cheaper.
 */
export const COALESCE_LIMIT = 64 * 1024;

/** A bidirectional stream as web streams: what QUIC and WebTransport libraries hand out. */
export interface BidiStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

export interface StreamConnectionOptions {
  network: string;
  remoteAddress: string;
  localAddress: string;
  /** How long `close()` waits for the peer's end of stream, and a peer-ended stream for the peer to end the session. */
  closeTimeoutMs: number;
}

export type StreamConnectionState = 'open' | 'closing' | 'closed';

/**
 * A `Connection` over one bidirectional stream inside a session (a QUIC connection, a
 * WebTransport session). The stream may come later than the object (server side: with the
 * client's first bytes); writes made before it arrives wait for it. Frames written in one turn
 * are coalesced into few stream writes; `pauseReading()` stops reading the stream (its flow
 * control then holds the peer back) until `resumeReading()`.
 *
 * Closing follows TCP's orderly close: `close()` ends the stream after the queued writes,
 * keeps reading until the peer ends its side too, and only then ends the session, so nothing
 * sent is cut off. A peer that ends its stream gets our end back at once and is left to end
 * the session; after `closeTimeoutMs` this side does.
 *
 * A subclass attaches the stream (`attachStream`), reports the session's own end (`markGone`,
 * `error`, `finish`) and supplies what is its own: how the session ends (`endSession`), how an
 * unwanted stream is refused (`refuseStream`) and the words of its errors (`streamError`).
 */
export abstract class StreamConnection<S extends BidiStream = BidiStream> implements Connection {
  readonly network: string;
  readonly remoteAddress: string;
  readonly localAddress: string;

  readonly #closeTimeoutMs: number;
  #stream: S | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #handler: ConnectionHandler | undefined;
  #state: StreamConnectionState = 'open';
  /** Data is not delivered now: pauseReading(), close() or destroy(). */
  #paused = false;
  #resumeReading: (() => void) | undefined;
  #reading = false;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** Bytes handed to the stream writer that it has not yet passed on. */
  #inflightBytes = 0;
  /** pendingBytes reached DRAIN_NOTICE_BYTES: report onDrain once the writer has taken it below. */
  #drainOwed = false;
  #flushScheduled = false;
  #error: Error | undefined;
  /** The session has ended on its own (closed by either side, timed out, failed). */
  #gone = false;
  /** endSession() has been called. */
  #sessionEnded = false;
  #notified = false;
  #closePromise: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: StreamConnectionOptions) {
    this.network = options.network;
    this.remoteAddress = options.remoteAddress;
    this.localAddress = options.localAddress;
    this.#closeTimeoutMs = options.closeTimeoutMs;
  }

  /**
   * Ends the session, once, from `finish()`: `aborted` after a local error, otherwise an
   * orderly close. Must not throw.
   */
  protected abstract endSession(aborted: boolean): void;

  /** Refuses a stream beyond the first: rpcx uses one stream per connection. */
  protected abstract refuseStream(stream: S): void;

  /** The error reported for a failure of the stream or the session. */
  protected abstract streamError(text: string, cause?: unknown): Error;

  /** Called by `destroy()` while the session is still there; by default the stream is left to `endSession`. */
  protected cancelStream(_stream: S, _error: Error): void {}

  get closed(): boolean {
    return this.#state !== 'open';
  }

  get pendingBytes(): number {
    return this.#queuedBytes + this.#inflightBytes;
  }

  protected get state(): StreamConnectionState {
    return this.#state;
  }

  /** The error `onClose` will report; the first one set stays. */
  protected get error(): Error | undefined {
    return this.#error;
  }

  protected set error(error: Error | undefined) {
    this.#error = error;
  }

  /** The session has ended on its own. */
  protected get gone(): boolean {
    return this.#gone;
  }

  /** endSession() has been called. */
  protected get sessionEnded(): boolean {
    return this.#sessionEnded;
  }

  /** Records that the session has ended on its own; follow with `finish(false)`. */
  protected markGone(): void {
    this.#gone = true;
  }

  setHandler(handler: ConnectionHandler): void {
    if (this.#handler) throw new ConfigError('Connection.setHandler may be called only once');
    this.#handler = handler;
    if (this.#state === 'closed') {
      // Gone before anyone listened: report it, but not from inside setHandler.
      process.nextTick(() => this.#notify());
      return;
    }
    this.#startReading();
  }

  /** The stream the connection runs on; a second one is refused. */
  attachStream(stream: S): void {
    if (this.#stream || this.#state === 'closed') {
      this.refuseStream(stream);
      return;
    }
    this.#stream = stream;
    this.#writer = stream.writable.getWriter();
    // The stream rejects these when it is reset; the read loop reports that.
    this.#writer.closed.catch(noop);
    if (this.#state === 'closing') {
      // close() came first (server side, nothing received yet): end this stream too.
      this.#flush();
      this.#endWriting();
    } else if (this.#queue.length > 0) {
      this.#flush();
    }
    this.#startReading();
  }

  write(frame: Uint8Array): void {
    // Writes after close()/destroy() are dropped, as there is nobody left to tell.
    if (this.#state !== 'open') return;
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    if (this.pendingBytes >= DRAIN_NOTICE_BYTES) this.#drainOwed = true;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
  }

  pauseReading(): void {
    this.#paused = true;
  }

  resumeReading(): void {
    if (this.#state !== 'open') return;
    this.#paused = false;
    this.#resumeReading?.();
  }

  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.#closePromise = new Promise<void>((resolve) => (this.#closeResolve = resolve));
    if (this.#state === 'closed') {
      this.#closeResolve!();
      return this.#closePromise;
    }
    this.#state = 'closing';
    this.#paused = true;
    if (!this.#stream) {
      // Nothing was ever exchanged (the client has not written yet): no stream to end.
      this.finish(false);
      return this.#closePromise;
    }
    this.#flush();
    this.#endWriting();
    // The peer's end of stream has to be read even when paused or never read; data that
    // still comes is dropped.
    this.#startReading();
    this.#resumeReading?.();
    this.#timer = setTimeout(() => this.finish(false), this.#closeTimeoutMs);
    return this.#closePromise;
  }

  destroy(error?: Error): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#paused = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (error && !this.#error) this.#error = error;
    this.#resumeReading?.();
    if (this.#stream && !this.#gone) this.cancelStream(this.#stream, error ?? new Error('connection destroyed'));
    this.finish(!!error);
  }

  /** The end of every path: end the session (once), then report. */
  protected finish(aborted: boolean): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = 'closed';
    this.#paused = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#resumeReading?.();
    if (!this.#sessionEnded) {
      this.#sessionEnded = true;
      this.endSession(aborted);
    }
    this.#closeResolve?.();
    // Reported from a later tick, never from inside the caller's close()/destroy().
    process.nextTick(() => this.#notify());
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const writer = this.#writer;
    if (!writer || this.#queue.length === 0) return;
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    let run: Uint8Array[] = [];
    let runBytes = 0;
    const send = (chunk: Uint8Array) => {
      this.#inflightBytes += chunk.length;
      writer.write(chunk).then(
        () => {
          this.#inflightBytes -= chunk.length;
          this.#checkDrained();
        },
        // The stream was reset or the session closed: the read loop or the session's own
        // events report it; what was not written is lost either way.
        () => (this.#inflightBytes = 0),
      );
    };
    const sendRun = () => {
      if (run.length === 1) send(run[0]);
      else if (run.length > 1) send(concat(run, runBytes));
      run = [];
      runBytes = 0;
    };
    for (const frame of queue) {
      if (frame.length >= COALESCE_LIMIT) {
        sendRun();
        send(frame);
        continue;
      }
      if (runBytes + frame.length > COALESCE_LIMIT) sendRun();
      run.push(frame);
      runBytes += frame.length;
    }
    sendRun();
  };

  #checkDrained(): void {
    if (!this.#drainOwed || this.#state !== 'open' || this.pendingBytes >= DRAIN_NOTICE_BYTES) return;
    this.#drainOwed = false;
    try {
      this.#handler?.onDrain?.();
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Ends our side of the stream after everything queued on the writer. */
  #endWriting(): void {
    const writer = this.#writer;
    if (!writer) return;
    this.#writer = undefined;
    writer.close().catch(noop);
  }

  #startReading(): void {
    if (this.#reading || !this.#stream) return;
    // Before setHandler the bytes wait in the stream (flow control holds the sender back).
    if (!this.#handler && this.#state === 'open') return;
    this.#reading = true;
    void this.#readLoop(this.#stream.readable.getReader());
  }

  async #readLoop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        if (this.#paused) await this.#whilePaused();
        if (this.#state === 'closed') return;
        const { value, done } = await reader.read();
        if (done) {
          this.#onEndOfStream();
          return;
        }
        // Paused while this read was under way: the chunk waits for resumeReading().
        if (this.#paused) await this.#whilePaused();
        if (this.#state !== 'open' || !this.#handler) continue;
        try {
          this.#handler.onData(value);
        } catch (error) {
          this.destroy(error instanceof Error ? error : new Error(String(error)));
          return;
        }
      }
    } catch (error) {
      this.#onStreamError(error);
    } finally {
      reader.releaseLock();
    }
  }

  /** Resolves once reading may go on: resumeReading(), or the connection is no longer open. */
  async #whilePaused(): Promise<void> {
    while (this.#paused && this.#state === 'open') {
      await new Promise<void>((resolve) => (this.#resumeReading = resolve));
      this.#resumeReading = undefined;
    }
  }

  /** The peer ended its side of the stream. */
  #onEndOfStream(): void {
    if (this.#state === 'closing') {
      // Our close() is answered: both sides have ended their streams, so everything sent
      // in either direction has arrived.
      this.finish(false);
      return;
    }
    if (this.#state !== 'open') return;
    // The peer closed. Answer with our end after what is queued (a reply may be in it), as a
    // TCP socket without half-open mode does, report, and leave ending the session to the
    // peer, which has then seen both ends, for up to closeTimeoutMs.
    this.#flush();
    this.#endWriting();
    this.#state = 'closed';
    this.#paused = true;
    this.#closeResolve?.();
    this.#notify();
    this.#timer = setTimeout(() => this.finish(false), this.#closeTimeoutMs);
    this.#timer.unref();
  }

  #onStreamError(error: unknown): void {
    if (this.#gone || this.#state === 'closed') {
      // The session's own end explains it; a stream error is only its echo.
      this.finish(false);
      return;
    }
    this.#error ??= this.streamError('stream reset by peer', error);
    this.finish(true);
  }

  #notify(): void {
    if (this.#notified || !this.#handler) return;
    this.#notified = true;
    this.#handler.onClose(this.#error);
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function noop(): void {}
