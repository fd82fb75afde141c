import { ConnectionClosedError } from '@rpcx/core';
import { AbstractConnection, coalesce, type BaseConnectionOptions } from './connection.js';

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

/** `closeTimeoutMs`: how long `close()` waits for the peer's end of stream, and a peer-ended stream for the peer to end the session. */
export type StreamConnectionOptions = BaseConnectionOptions;

/**
 * An `AbstractConnection` over one bidirectional stream inside a session (a QUIC connection, a
 * WebTransport session). The stream may come later than the object (server side: with the
 * client's first bytes); writes made before it arrives wait for it. Frames written in one turn
 * go out in few stream writes (`COALESCE_LIMIT`); `pauseReading()` stops reading the stream
 * (its flow control then holds the peer back) until `resumeReading()`.
 *
 * Closing follows TCP's orderly close: `close()` ends the stream after the queued writes,
 * keeps reading until the peer ends its side too, and only then ends the session, so nothing
 * sent is cut off. A peer that ends its stream gets our end back at once and is left to end
 * the session; after `closeTimeoutMs` this side does.
 *
 * A subclass attaches the stream (`attachStream`), reports the session's own end (`markGone`,
 * `failed`, `finish`) and supplies what is its own: how the session ends (`endSession`), how
 * an unwanted stream is refused (`refuseStream`) and the words of its errors (`streamError`).
 */
export abstract class StreamConnection<S extends BidiStream = BidiStream> extends AbstractConnection {
  #stream: S | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** Frames written before the stream came. */
  #waiting: Uint8Array[] = [];
  #waitingBytes = 0;
  /** Bytes handed to the stream writer that it has not yet passed on. */
  #inflightBytes = 0;
  #reading = false;
  #inputOn = false;
  #wakeReader: (() => void) | undefined;
  /** The session has ended on its own (closed by either side, timed out, failed). */
  #gone = false;
  /** endSession() has been called. */
  #sessionEnded = false;
  /** After the peer ended its stream: when this side ends the session if the peer does not. */
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;

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

  /** The stream the connection runs on; a second one is refused. */
  attachStream(stream: S): void {
    if (this.#stream || this.state === 'closed') {
      this.refuseStream(stream);
      return;
    }
    this.#stream = stream;
    this.#writer = stream.writable.getWriter();
    // The stream rejects these when it is reset; the read loop reports that.
    this.#writer.closed.catch(noop);
    if (this.#waiting.length > 0) {
      const waiting = this.#waiting;
      this.#waiting = [];
      this.#waitingBytes = 0;
      this.#send(waiting);
    }
    // close() came first (server side, nothing received yet): end this stream too.
    if (this.state === 'closing') this.#endWriting();
    this.#read();
  }

  protected override get bufferedBytes(): number {
    return this.#waitingBytes + this.#inflightBytes;
  }

  protected override sendFrames(frames: Uint8Array[], bytes: number): void {
    if (this.#writer) {
      this.#send(frames);
    } else if (!this.#stream) {
      this.#waiting.push(...frames);
      this.#waitingBytes += bytes;
    }
    // else our end of the stream is closed: nothing more goes out.
  }

  protected override startInput(): void {
    this.#inputOn = true;
    this.#wakeReader?.();
    this.#read();
  }

  protected override stopInput(): void {
    this.#inputOn = false;
  }

  protected override endOutput(): void {
    // Nothing was ever exchanged (the client has not written yet): no stream to end.
    if (!this.#stream) this.finish(false);
    else this.#endWriting();
  }

  protected override closeTimedOut(): void {
    this.finish(false);
  }

  protected override abort(error: Error | undefined): void {
    if (this.#stream && !this.#gone) this.cancelStream(this.#stream, error ?? new ConnectionClosedError('connection destroyed'));
    this.finish(!!error);
  }

  /** The end of every path: end the session (once), then report. */
  protected finish(aborted: boolean): void {
    if (this.#lingerTimer) clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    this.#waiting = [];
    this.#waitingBytes = 0;
    if (!this.#sessionEnded) {
      this.#sessionEnded = true;
      this.endSession(aborted);
    }
    this.ended();
    this.#wakeReader?.();
  }

  #send(frames: Uint8Array[]): void {
    const writer = this.#writer!;
    for (const chunk of coalesce(frames, COALESCE_LIMIT)) {
      this.#inflightBytes += chunk.length;
      writer.write(chunk).then(
        () => {
          this.#inflightBytes -= chunk.length;
          this.checkDrain();
        },
        // The stream was reset or the session closed: the read loop or the session's own
        // events report it; what was not written is lost either way.
        () => (this.#inflightBytes = 0),
      );
    }
  }

  /** Ends our side of the stream after everything queued on the writer. */
  #endWriting(): void {
    const writer = this.#writer;
    if (!writer) return;
    this.#writer = undefined;
    writer.close().catch(noop);
  }

  #read(): void {
    // Before setHandler the bytes wait in the stream (flow control holds the sender back).
    if (this.#reading || !this.#stream || !this.#inputOn || this.isEnded) return;
    this.#reading = true;
    void this.#readLoop(this.#stream.readable.getReader());
  }

  async #readLoop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        while (!this.#inputOn && !this.isEnded) {
          await new Promise<void>((resolve) => (this.#wakeReader = resolve));
          this.#wakeReader = undefined;
        }
        if (this.isEnded) return;
        const { value, done } = await reader.read();
        if (done) {
          this.#onEndOfStream();
          return;
        }
        // Held by the base while paused (a read was under way), dropped after close().
        this.received(value);
      }
    } catch (error) {
      this.#onStreamError(error);
    } finally {
      reader.releaseLock();
    }
  }

  /** The peer ended its side of the stream. */
  #onEndOfStream(): void {
    if (this.state === 'closing') {
      // Our close() is answered: both sides have ended their streams, so everything sent
      // in either direction has arrived.
      this.finish(false);
      return;
    }
    if (this.state !== 'open') return;
    // The peer closed. Answer with our end after what is queued (a reply may be in it), as a
    // TCP socket without half-open mode does, report, and leave ending the session to the
    // peer, which has then seen both ends, for up to closeTimeoutMs.
    this.flushWrites();
    this.#endWriting();
    this.ended();
    this.#lingerTimer = setTimeout(() => this.finish(false), this.closeTimeoutMs);
    (this.#lingerTimer as { unref?: () => void }).unref?.();
  }

  #onStreamError(error: unknown): void {
    // Unless the session's own end explains it (then the stream error is only its echo).
    const unexplained = !this.#gone && this.state !== 'closed';
    if (unexplained) this.failed(this.streamError('stream reset by peer', error));
    this.finish(unexplained);
  }
}

function noop(): void {}
