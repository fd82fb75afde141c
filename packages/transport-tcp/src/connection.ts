import type { Socket } from 'node:net';
import { ConnectionError } from '@rpcx/core';
import { AbstractConnection, goSyscall, socketErrorText, type BaseConnectionOptions } from '@rpcx/transport-kit';

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
 * jobs it started. Frames encoded by @rpcx/protocol mostly arrive here already joined into one
 * view (@rpcx/transport-kit's `joinAdjacent`), so a turn's frames are usually one write.
 */
const CONCAT_LIMIT = 16 * 1024;

/** `closeTimeoutMs`: how long `close()` waits for the peer to close before destroying. */
export type SocketConnectionOptions = BaseConnectionOptions;

/**
 * A `Connection` over a net.Socket or tls.TLSSocket (the life cycle is @rpcx/transport-kit's
 * `AbstractConnection`). Listeners for 'error' and 'close' are attached at once so that no
 * socket error is ever unhandled; 'data' only once a handler is set, so bytes that arrive
 * earlier wait in the socket instead of being read into memory.
 */
export class SocketConnection extends AbstractConnection {
  readonly #socket: Socket;
  #dataAttached = false;

  constructor(socket: Socket, options: SocketConnectionOptions) {
    super(options);
    this.#socket = socket;
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    // Node emits 'drain' when the socket's buffer has emptied after a write of at least its
    // high-water mark (16 KiB) that it could not complete at once; a write it completed at
    // once (even of a megabyte, to a reader keeping up) has no 'drain': the connection base
    // checks for that right after sending.
    socket.on('drain', () => this.checkDrain());
    // A socket can be gone before it is handed over (reset during the TLS handshake, …).
    if (socket.destroyed) process.nextTick(this.#onClose);
  }

  protected override get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  protected override sendFrames(frames: Uint8Array[], bytes: number): void {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return;
    if (frames.length === 1) {
      socket.write(frames[0]);
    } else if (bytes <= CONCAT_LIMIT) {
      socket.write(Buffer.concat(frames, bytes));
    } else {
      socket.cork();
      for (let i = 0; i < frames.length; i++) socket.write(frames[i]);
      socket.uncork();
    }
  }

  protected override startInput(): void {
    if (!this.#dataAttached) {
      this.#dataAttached = true;
      this.#socket.on('data', (chunk: Buffer) => this.received(chunk));
    }
    // Attaching 'data' alone does not start a socket that pause() stopped before.
    this.#socket.resume();
  }

  protected override stopInput(): void {
    this.#socket.pause();
  }

  protected override endOutput(): void {
    // The socket only reports 'close' after reading the peer's FIN (close() resumes reading).
    // Reading to EOF instead of closing at once keeps the kernel from answering late requests
    // with a reset, which can make the peer discard the replies it has not read yet.
    this.#socket.end();
  }

  protected override abort(): void {
    // The owner's error is reported as given; the socket is destroyed without it so that it
    // does not come back through 'error' and get wrapped.
    this.#socket.destroy();
  }

  readonly #onError = (error: Error): void => {
    // Go: `read tcp 127.0.0.1:8972->127.0.0.1:51234: read: connection reset by peer`.
    const op = goSyscall(error);
    this.failed(
      new ConnectionError(`${op ? op + ' ' : ''}${this.network} ${this.localAddress}->${this.remoteAddress}: ${socketErrorText(error)}`, {
        cause: error,
      }),
    );
  };

  readonly #onClose = (): void => this.ended();
}
