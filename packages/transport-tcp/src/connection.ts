import type { Socket } from 'node:net';
import { ConfigError, ConnectionError, type Connection, type ConnectionHandler } from '@rpcx/core';
import { socketErrorText } from './errors.js';

/**
 * Batches of one turn up to this size are copied into one buffer and written with one call;
 * bigger batches are corked and written as they are (one writev, no copy). Measured with
 * bench/coalesce.ts on loopback, Node 20, 2 shared cores, best of 5 rounds; frames per ms and
 * CPU µs per frame (both ends):
 *
 *                                     write each  cork+nextTick   concat       this
 *   128 B frames, 100 per turn        408 / 2.37  3434 / 0.27     4948 / 0.20  4478 / 0.23
 *   128 B request/response, 100 out   131 / 7.5   1247 / 0.84     1467 / 0.75  1465 / 0.75
 *   1 KiB frames, 10 per turn         221 / 4.4    650 / 1.54      421 / 2.30   431 / 2.33
 *   64 KiB frames, 4 per turn          30 / 29.8    33 / 28.6       21 / 42.5    34 / 28.0
 *
 * A quieter earlier run gave the same order (128 B: cork 3700-4100, this 4650-4760). Small
 * frames, the usual rpcx traffic, gain 15-40 %; big ones take the cork path. Batches of a few
 * 1 KiB frames do better corked, but the spread between identical runs on this machine was as
 * large, so the simple rule stays. setImmediate instead of nextTick was no faster and adds
 * latency, so the flush runs in process.nextTick: after the current callback and the promise
 * jobs it started.
 */
const CONCAT_LIMIT = 16 * 1024;

export interface SocketConnectionOptions {
  network: string;
  remoteAddress: string;
  localAddress: string;
  /** How long `close()` waits for the peer to close before destroying. */
  closeTimeoutMs: number;
}

type State = 'open' | 'closing' | 'closed';

/**
 * A `Connection` over a net.Socket or tls.TLSSocket. Listeners for 'error' and 'close' are
 * attached at once so that no socket error is ever unhandled; 'data' only once a handler is
 * set, so bytes that arrive earlier wait in the socket instead of being lost.
 */
export class SocketConnection implements Connection {
  readonly network: string;
  readonly remoteAddress: string;
  readonly localAddress: string;

  readonly #socket: Socket;
  readonly #closeTimeoutMs: number;
  #handler: ConnectionHandler | undefined;
  #state: State = 'open';
  #paused = false;
  /** Frames written this turn, flushed in process.nextTick. */
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #error: Error | undefined;
  #socketClosed = false;
  #notified = false;
  #closePromise: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  #closeTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, options: SocketConnectionOptions) {
    this.#socket = socket;
    this.network = options.network;
    this.remoteAddress = options.remoteAddress;
    this.localAddress = options.localAddress;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    socket.on('error', this.#onError);
    socket.on('close', this.#onSocketClose);
    // Node emits 'drain' when the socket's buffer has emptied after a write of at least its
    // high-water mark (16 KiB), so every pendingBytes of DRAIN_NOTICE_BYTES is reported.
    socket.on('drain', this.#onDrain);
    // A socket can be gone before it is handed over (reset during the TLS handshake, …).
    if (socket.destroyed) process.nextTick(this.#onSocketClose);
  }

  get closed(): boolean {
    return this.#state !== 'open';
  }

  get pendingBytes(): number {
    return this.#socket.writableLength + this.#queuedBytes;
  }

  setHandler(handler: ConnectionHandler): void {
    if (this.#handler) throw new ConfigError('Connection.setHandler may be called only once');
    this.#handler = handler;
    if (this.#socketClosed) {
      // Closed before anyone listened: report it, but not from inside setHandler.
      process.nextTick(this.#notify);
      return;
    }
    this.#socket.on('data', this.#onData);
    // Attaching 'data' alone does not start a socket that pause() stopped before.
    if (!this.#paused) this.#socket.resume();
  }

  write(frame: Uint8Array): void {
    // Writes after close()/destroy() are dropped, as there is nobody left to tell.
    if (this.#state !== 'open') return;
    this.#queuedBytes += frame.length;
    if (this.#queue.push(frame) === 1) process.nextTick(this.#flush);
  }

  pauseReading(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  resumeReading(): void {
    this.#paused = false;
    // Before setHandler nobody listens yet (a flowing socket would drop what it reads);
    // setHandler starts it then.
    if (this.#handler && this.#state === 'open') this.#socket.resume();
  }

  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.#closePromise = new Promise<void>((resolve) => {
      this.#closeResolve = resolve;
    });
    if (this.#socketClosed) {
      this.#state = 'closed';
      this.#closeResolve!();
      return this.#closePromise;
    }
    if (this.#state === 'open') {
      this.#flush();
      this.#state = 'closing';
      this.#socket.end();
      // The socket only reports 'close' after reading the peer's FIN, so reading resumes
      // even after pauseReading(); whatever still arrives is dropped in #onData. Reading to
      // EOF instead of closing at once keeps the kernel from answering late requests with
      // a reset, which can make the peer discard the replies it has not read yet.
      this.#socket.resume();
      this.#closeTimer = setTimeout(() => this.#socket.destroy(), this.#closeTimeoutMs);
    }
    return this.#closePromise;
  }

  destroy(error?: Error): void {
    if (this.#socketClosed) return;
    this.#state = 'closed';
    this.#queue = [];
    this.#queuedBytes = 0;
    // The owner's error is reported as given; the socket is destroyed without it so that it
    // does not come back through 'error' and get wrapped.
    if (error && !this.#error) this.#error = error;
    this.#socket.destroy();
  }

  readonly #flush = (): void => {
    const queue = this.#queue;
    if (queue.length === 0) return;
    const bytes = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return;
    if (queue.length === 1) {
      socket.write(queue[0]);
    } else if (bytes <= CONCAT_LIMIT) {
      socket.write(Buffer.concat(queue, bytes));
    } else {
      socket.cork();
      for (let i = 0; i < queue.length; i++) socket.write(queue[i]);
      socket.uncork();
    }
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state !== 'open') return;
    try {
      this.#handler!.onData(chunk);
    } catch (error) {
      // A throwing handler must not take the process down through the socket's callback.
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  };

  readonly #onDrain = (): void => {
    if (this.#state !== 'open' || !this.#handler?.onDrain) return;
    try {
      this.#handler.onDrain();
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  };

  readonly #onError = (error: Error): void => {
    // Go: `read tcp 127.0.0.1:8972->127.0.0.1:51234: read: connection reset by peer`.
    const op = (error as NodeJS.ErrnoException).syscall;
    this.#error ??= new ConnectionError(
      `${op ? op + ' ' : ''}${this.network} ${this.localAddress}->${this.remoteAddress}: ${socketErrorText(error)}`,
      { cause: error },
    );
  };

  readonly #onSocketClose = (): void => {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    this.#state = 'closed';
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeResolve?.();
    if (this.#handler) this.#notify();
  };

  readonly #notify = (): void => {
    if (this.#notified) return;
    this.#notified = true;
    const handler = this.#handler!;
    handler.onClose(this.#error);
  };
}
