import { ConfigError, ConnectionError, type Connection, type ConnectionHandler } from '@rpcx/core';

/** Frames of one turn are joined into one stream write while it stays under this size. */
const COALESCE_LIMIT = 64 * 1024;

/** A WebTransport bidirectional stream, as both the server and the client get it. */
export interface WtStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** The session around it: rpcx uses one session per connection, one stream per session. */
export interface WtSession {
  readonly closed: Promise<{ closeCode?: number; reason?: string }>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

export interface WtConnectionOptions {
  network: string;
  remoteAddress: string;
  localAddress: string;
  /** How long `close()` waits for the peer's end of stream, and a peer-ended stream for the peer to close the session. */
  closeTimeoutMs: number;
  session: WtSession;
  /** The client's stream; on the server it is attached when the client opens it. */
  stream?: WtStream;
}

type State = 'open' | 'closing' | 'closed';

/**
 * A `Connection` over one bidirectional WebTransport stream. Closing is orderly as with TCP:
 * `close()` ends the stream after the queued writes, reads until the peer has ended its side
 * too, and only then closes the session (close code 0), so the session close never cuts off
 * data in flight. A peer that ends its stream gets the end back at once and is left to close
 * the session (after `closeTimeoutMs` this side does).
 */
export class WtConnection implements Connection {
  readonly network: string;
  readonly remoteAddress: string;
  readonly localAddress: string;

  readonly #session: WtSession;
  readonly #closeTimeoutMs: number;
  #stream: WtStream | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #handler: ConnectionHandler | undefined;
  #state: State = 'open';
  #paused = false;
  #resumeReading: (() => void) | undefined;
  #reading = false;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #inflightBytes = 0;
  #flushScheduled = false;
  #error: Error | undefined;
  #sessionGone = false;
  #sessionClosed = false;
  #notified = false;
  #closePromise: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: WtConnectionOptions) {
    this.network = options.network;
    this.remoteAddress = options.remoteAddress;
    this.localAddress = options.localAddress;
    this.#session = options.session;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    options.session.closed.then(
      (info) => this.#onSessionClosed(info.closeCode ?? 0, info.reason ?? ''),
      (error: unknown) => this.#onSessionFailed(error),
    );
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
      process.nextTick(() => this.#notify());
      return;
    }
    this.#startReading();
  }

  /** The stream the connection runs on; a second one is refused. */
  attachStream(stream: WtStream): void {
    if (this.#stream || this.#state === 'closed') {
      void stream.writable.abort(new Error('rpcx uses one stream per session')).catch(noop);
      void stream.readable.cancel(new Error('rpcx uses one stream per session')).catch(noop);
      return;
    }
    this.#stream = stream;
    this.#writer = stream.writable.getWriter();
    this.#writer.closed.catch(noop);
    if (this.#state === 'closing') {
      this.#flush();
      this.#endWriting();
    } else if (this.#queue.length > 0) {
      this.#flush();
    }
    this.#startReading();
  }

  write(frame: Uint8Array): void {
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
      this.#finish(0);
      return this.#closePromise;
    }
    this.#flush();
    this.#endWriting();
    this.#startReading();
    this.#resumeReading?.();
    this.#timer = setTimeout(() => this.#finish(0), this.#closeTimeoutMs);
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
    this.#finish(error ? 1 : 0);
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
      if (this.#sessionGone || this.#state === 'closed') {
        this.#finish(0);
        return;
      }
      this.#error ??= this.#connectionError('stream reset by peer', error);
      this.#finish(1);
    } finally {
      reader.releaseLock();
    }
  }

  #onEndOfStream(): void {
    if (this.#state === 'closing') {
      this.#finish(0);
      return;
    }
    if (this.#state !== 'open') return;
    // The peer closed: end our side after what is queued, report, and leave the session
    // close to the peer (which has then seen both ends) for up to closeTimeoutMs.
    this.#flush();
    this.#endWriting();
    this.#state = 'closed';
    this.#paused = true;
    this.#closeResolve?.();
    this.#notify();
    this.#timer = setTimeout(() => this.#finish(0), this.#closeTimeoutMs);
    this.#timer.unref();
  }

  #onSessionClosed(code: number, reason: string): void {
    this.#sessionGone = true;
    if (!this.#sessionClosed && code !== 0 && this.#state !== 'closed') {
      this.#error ??= this.#connectionError(`session closed by peer with code ${code}${reason ? ` (${reason})` : ''}`);
    }
    this.#finish(0);
  }

  #onSessionFailed(error: unknown): void {
    this.#sessionGone = true;
    if (!this.#sessionClosed && this.#state !== 'closed') {
      this.#error ??= this.#connectionError((error as Error)?.message ?? String(error), error);
    }
    this.#finish(0);
  }

  #connectionError(text: string, cause?: unknown): ConnectionError {
    return new ConnectionError(`webtransport ${this.localAddress || '?'}->${this.remoteAddress || '?'}: ${text}`, 'RPCX_ERR_CONNECTION', { cause });
  }

  /** The end of every path: close the session (once), then report. */
  #finish(closeCode: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = 'closed';
    this.#paused = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#resumeReading?.();
    if (!this.#sessionClosed) {
      this.#sessionClosed = true;
      if (!this.#sessionGone) {
        try {
          this.#session.close({ closeCode: closeCode, reason: closeCode === 0 ? '' : 'rpcx connection aborted' });
        } catch {
          // Already closing.
        }
      }
    }
    this.#closeResolve?.();
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
