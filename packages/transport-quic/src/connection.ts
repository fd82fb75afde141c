import { events, errors, type QUICConnection, type QUICStream } from '@matrixai/quic';
import { ConfigError, type Connection, type ConnectionHandler } from '@rpcx/core';
import { connectionError, describeClose, type QuicCloseInfo } from './errors.js';

/**
 * Frames of one turn are joined into one stream write while the write stays under this size;
 * a frame at least this big goes alone, uncopied. Every write into @matrixai/quic costs a
 * promise, an event and a quiche call, so fewer, larger writes are much cheaper.
 */
const COALESCE_LIMIT = 64 * 1024;

/** Application close codes on the wire: 0 an orderly close, 1 a close after a local error. */
export const CLOSE_OK = 0;
export const CLOSE_ABORT = 1;

export interface QuicConnectionOptions {
  network: string;
  remoteAddress: string;
  localAddress: string;
  /** How long `close()` waits for the peer's end of stream, and a peer-closed connection for the peer's CONNECTION_CLOSE. */
  closeTimeoutMs: number;
  /** The QUIC connection underneath. */
  quic: QUICConnection;
  /** The client's stream; on the server it arrives later, with the client's first bytes. */
  stream?: QUICStream;
  /**
   * Ends the QUIC connection with an application close code (CLOSE_OK or CLOSE_ABORT) and
   * releases what it holds (the client's UDP socket). Called once; must not throw.
   */
  teardown: (errorCode: number) => Promise<void>;
}

type State = 'open' | 'closing' | 'closed';

/**
 * A `Connection` over one bidirectional QUIC stream, as Go rpcx's quic transport uses: the
 * client opens the stream and writes first; the server gets it with those first bytes. The
 * server-side object exists from the handshake on, and writes made before the stream arrives
 * wait for it.
 *
 * Closing follows TCP's orderly close: `close()` ends the stream (FIN) after the queued
 * writes, keeps reading until the peer ends its side too, and only then closes the QUIC
 * connection, so nothing sent is cut off by the CONNECTION_CLOSE. A peer that ends the stream
 * gets our FIN back at once; the peer that started the close then closes the connection (Go's
 * quic transport never does: after `closeTimeoutMs` this side closes it).
 */
export class QuicConnection implements Connection {
  readonly network: string;
  readonly remoteAddress: string;
  readonly localAddress: string;

  readonly #quic: QUICConnection;
  readonly #closeTimeoutMs: number;
  readonly #teardown: (errorCode: number) => Promise<void>;
  #stream: QUICStream | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #handler: ConnectionHandler | undefined;
  #state: State = 'open';
  /** Data is no longer delivered: pauseReading(), close() or destroy(). */
  #paused = false;
  #resumeReading: (() => void) | undefined;
  #reading = false;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** Bytes handed to the stream writer that it has not yet passed to quiche. */
  #inflightBytes = 0;
  #flushScheduled = false;
  #error: Error | undefined;
  /** The QUIC connection has ended (closed by either side, timed out, failed). */
  #gone = false;
  #notified = false;
  #tornDown: Promise<void> | undefined;
  #closePromise: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: QuicConnectionOptions) {
    this.network = options.network;
    this.remoteAddress = options.remoteAddress;
    this.localAddress = options.localAddress;
    this.#quic = options.quic;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    this.#teardown = options.teardown;
    this.#quic.addEventListener(events.EventQUICConnectionError.name, this.#onQuicError);
    this.#quic.addEventListener(events.EventQUICConnectionStopped.name, this.#onQuicStopped, { once: true });
    if (options.stream) this.attachStream(options.stream);
  }

  get closed(): boolean {
    return this.#state !== 'open';
  }

  get pendingBytes(): number {
    return this.#queuedBytes + this.#inflightBytes;
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

  /** The stream the connection runs on (server side: the client's first bidirectional stream). */
  attachStream(stream: QUICStream): void {
    if (this.#stream || this.#state === 'closed') {
      // Go reads one stream per connection; any other is refused.
      stream.cancel(new Error('rpcx uses one stream per connection'));
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
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
  }

  pauseReading(): void {
    this.#paused = true;
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
      this.#finish(CLOSE_OK);
      return this.#closePromise;
    }
    this.#flush();
    this.#endWriting();
    // The peer's end of stream has to be read even when paused or never read; data that
    // still comes is dropped.
    this.#startReading();
    this.#resumeReading?.();
    this.#timer = setTimeout(() => this.#finish(CLOSE_OK), this.#closeTimeoutMs);
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
    if (this.#stream && !this.#gone) {
      try {
        this.#stream.cancel(error ?? new Error('connection destroyed'));
      } catch {
        // Already reset or closed.
      }
    }
    this.#finish(error ? CLOSE_ABORT : CLOSE_OK);
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
        () => (this.#inflightBytes -= chunk.length),
        // The stream was reset or the connection closed: the read loop or the connection
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

  /** FIN after everything queued on the writer. */
  #endWriting(): void {
    const writer = this.#writer;
    if (!writer) return;
    this.#writer = undefined;
    writer.close().catch(noop);
  }

  #startReading(): void {
    if (this.#reading || !this.#stream) return;
    // Before setHandler the bytes wait in quiche (flow control holds the sender back).
    if (!this.#handler && this.#state === 'open') return;
    this.#reading = true;
    void this.#readLoop(this.#stream.readable.getReader());
  }

  async #readLoop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        while (this.#paused && this.#state === 'open') {
          await new Promise<void>((resolve) => (this.#resumeReading = resolve));
          this.#resumeReading = undefined;
        }
        if (this.#state === 'closed') return;
        const { value, done } = await reader.read();
        if (done) {
          this.#onEndOfStream();
          return;
        }
        if (this.#paused || this.#state !== 'open' || !this.#handler) continue;
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

  /** The peer ended its side of the stream. */
  #onEndOfStream(): void {
    if (this.#state === 'closing') {
      // Our close() is answered: both sides have ended their streams, so everything sent
      // in either direction has arrived.
      this.#finish(CLOSE_OK);
      return;
    }
    if (this.#state !== 'open') return;
    // The peer closed. Answer with our FIN after what is queued (a reply may be in it), as a
    // TCP socket without half-open mode does, and leave closing the QUIC connection to the
    // peer, which has then seen both ends; Go never does, so give up after closeTimeoutMs.
    this.#flush();
    this.#endWriting();
    this.#state = 'closed';
    this.#paused = true;
    this.#closeResolve?.();
    this.#notify();
    this.#timer = setTimeout(() => this.#finish(CLOSE_OK), this.#closeTimeoutMs);
    this.#timer.unref();
  }

  #onStreamError(error: unknown): void {
    if (this.#gone || this.#state === 'closed') {
      // The connection's own event explains the end; a stream error is only its echo.
      this.#finish(CLOSE_OK);
      return;
    }
    this.#error ??= connectionError(this.localAddress, this.remoteAddress, 'stream reset by peer', error);
    this.#finish(CLOSE_ABORT);
  }

  readonly #onQuicError = (event: Event): void => {
    const detail = (event as events.EventQUICConnectionError).detail;
    const fromPeer = detail instanceof errors.ErrorQUICConnectionPeer || detail instanceof errors.ErrorQUICConnectionPeerTLS;
    // Our own teardown is reported as a local close: nothing to tell.
    if (this.#tornDown && !fromPeer) return;
    this.#gone = true;
    if (!this.#error) {
      if (detail instanceof errors.ErrorQUICConnectionIdleTimeout) {
        // quic-go's words for the same event.
        this.#error = connectionError(this.localAddress, this.remoteAddress, 'timeout: no recent network activity', detail);
      } else {
        const info = (detail as { data?: QuicCloseInfo }).data;
        // A peer closing with application code 0 closed in order (also when it was the
        // server closing a connection on which the client never wrote).
        const clean = fromPeer && info?.isApp && info.errorCode === CLOSE_OK;
        if (!clean && this.#state !== 'closed') {
          const text = info ? describeClose(info, fromPeer ? 'remote' : 'local') : detail.message;
          this.#error = connectionError(this.localAddress, this.remoteAddress, text, detail);
        }
      }
    }
    this.#finish(CLOSE_OK);
  };

  readonly #onQuicStopped = (): void => {
    this.#gone = true;
    this.#finish(CLOSE_OK);
  };

  /** The end of every path: close the QUIC connection (once), then report. */
  #finish(errorCode: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = 'closed';
    this.#paused = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#resumeReading?.();
    this.#tornDown ??= this.#teardown(errorCode);
    this.#closeResolve?.();
    // Reported from a later tick, never from inside the caller's close()/destroy().
    process.nextTick(() => this.#notify());
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
