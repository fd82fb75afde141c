/**
 * The `Connection` over one WebSocket, shared by the Node transport (the `ws` package) and
 * the browser client (the standard WebSocket API). Nothing here may use a Node-only API:
 * the browser entry imports this file (and @rpcx/transport-kit has none).
 */
import { ConnectionError } from '@rpcx/core';
import { AbstractConnection, coalesce, type BaseConnectionOptions } from '@rpcx/transport-kit';

/** What the connection needs from a WebSocket; the two entries adapt theirs to it. */
export interface WsSocket {
  /**
   * Send one binary message; `sent`, when given, runs once it has been handed to the network
   * (or failed). Browsers cannot tell and ignore it: the browser connection never drains.
   */
  send(data: Uint8Array, sent?: () => void): void;
  /** Bytes accepted by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Start the closing handshake. */
  close(code: number): void;
  /** Drop the connection at once (a browser can only `close`). */
  terminate(): void;
  /** Stop reading from the network; absent in browsers. */
  pause?(): void;
  resume?(): void;
}

/** Calls the adapter makes into the connection, one per WebSocket event. */
export interface WsSocketEvents {
  message(data: Uint8Array): void;
  error(error: Error): void;
  close(code: number, reason: string): void;
}

export interface WsConnectionOptions extends BaseConnectionOptions {
  /** How long `close()` waits for the peer's close frame before dropping the connection. */
  closeTimeoutMs: number;
  /** Subscribes to the socket's events; called once, from the constructor. */
  attach: (events: WsSocketEvents) => void;
}

/**
 * Frames of one turn are joined into one message while the message stays under this size;
 * a frame at least this big is sent alone, uncopied. Go sends one message per Write, that is
 * per rpcx frame; readers on both sides treat the messages as one byte stream, so any split
 * is valid, and fewer messages cost fewer syscalls and headers.
 */
const COALESCE_LIMIT = 64 * 1024;

/** Close codes of an orderly end: normal, going away, and a close frame without a code. */
const CLEAN_CLOSE_CODES = new Set([1000, 1001, 1005]);

/**
 * A `Connection` whose bytes travel as binary WebSocket messages (the life cycle is
 * @rpcx/transport-kit's `AbstractConnection`). Incoming messages, text or binary (Go's client
 * sends text frames), are a continuous byte stream, as Go reads them.
 */
export class WsConnection extends AbstractConnection {
  readonly #socket: WsSocket;
  #socketClosed = false;

  constructor(socket: WsSocket, options: WsConnectionOptions) {
    super(options);
    this.#socket = socket;
    // Read nothing before a handler is set (where the socket can stop reading at all).
    socket.pause?.();
    options.attach({
      message: (data) => this.received(data),
      error: (error) =>
        this.failed(new ConnectionError(`websocket ${this.localAddress}->${this.remoteAddress}: ${error.message}`, { cause: error })),
      close: (code, reason) => this.#onClose(code, reason),
    });
  }

  protected override get bufferedBytes(): number {
    return this.#socketClosed ? 0 : this.#socket.bufferedAmount;
  }

  protected override sendFrames(frames: Uint8Array[]): void {
    if (this.#socketClosed) return;
    const messages = coalesce(frames, COALESCE_LIMIT);
    // Sends complete in order: the last one's completion tells that they all left.
    const last = messages.length - 1;
    for (let i = 0; i < last; i++) this.#socket.send(messages[i]);
    if (this.drainOwed) this.#socket.send(messages[last], () => this.checkDrain());
    else this.#socket.send(messages[last]);
  }

  protected override startInput(): void {
    this.#socket.resume?.();
  }

  protected override stopInput(): void {
    // The socket stops reading; messages it had already read are held.
    this.#socket.pause?.();
  }

  protected override endOutput(): void {
    this.#socket.close(1000);
  }

  protected override abort(): void {
    this.#socket.terminate();
  }

  #onClose(code: number, reason: string): void {
    this.#socketClosed = true;
    // A close we did not start, without an orderly close frame, is a failure.
    const error = CLEAN_CLOSE_CODES.has(code)
      ? undefined
      : new ConnectionError(`websocket ${this.localAddress}->${this.remoteAddress}: closed with code ${code}${reason ? ` (${reason})` : ''}`);
    this.ended(error);
  }
}
