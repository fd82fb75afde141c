/**
 * The `Connection` over one WebSocket, shared by the Node transport (the `ws` package) and
 * the browser client (the standard WebSocket API). Nothing here may use a Node-only API:
 * the browser entry imports this file.
 */
import { ConfigError, ConnectionError, DRAIN_NOTICE_BYTES, type Connection, type ConnectionHandler } from '@rpcx/core';

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

export interface WsConnectionOptions {
  network: string;
  remoteAddress: string;
  localAddress: string;
  /** How long `close()` waits for the peer's close frame before dropping the connection. */
  closeTimeoutMs: number;
  /** Runs the write flush after the current turn: `process.nextTick` in Node, `queueMicrotask` in browsers. */
  schedule: (fn: () => void) => void;
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

type State = 'open' | 'closing' | 'closed';

/**
 * A `Connection` whose bytes travel as binary WebSocket messages. Incoming messages, text or
 * binary (Go's client sends text frames), are a continuous byte stream, as Go reads them.
 */
export class WsConnection implements Connection {
  readonly network: string;
  readonly remoteAddress: string;
  readonly localAddress: string;

  readonly #socket: WsSocket;
  readonly #closeTimeoutMs: number;
  readonly #schedule: (fn: () => void) => void;
  #handler: ConnectionHandler | undefined;
  #state: State = 'open';
  #paused = false;
  /** close() or destroy() was called: nothing more is delivered. */
  #ended = false;
  /** Frames written this turn. */
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** pendingBytes reached DRAIN_NOTICE_BYTES since the last flush: the next flush reports its send. */
  #drainOwed = false;
  /** Messages not delivered yet: they came before `setHandler`, or while paused. */
  #held: Uint8Array[] = [];
  #error: Error | undefined;
  #socketClosed = false;
  #notified = false;
  #closePromise: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: WsSocket, options: WsConnectionOptions) {
    this.#socket = socket;
    this.network = options.network;
    this.remoteAddress = options.remoteAddress;
    this.localAddress = options.localAddress;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    this.#schedule = options.schedule;
    options.attach({
      message: (data) => this.#onMessage(data),
      error: (error) => this.#onError(error),
      close: (code, reason) => this.#onClose(code, reason),
    });
  }

  get closed(): boolean {
    return this.#state !== 'open';
  }

  get pendingBytes(): number {
    return this.#queuedBytes + (this.#socketClosed ? 0 : this.#socket.bufferedAmount);
  }

  setHandler(handler: ConnectionHandler): void {
    if (this.#handler) throw new ConfigError('Connection.setHandler may be called only once');
    this.#handler = handler;
    // Never call the handler from inside setHandler: its owner may not be ready yet.
    if (this.#held.length > 0 || this.#socketClosed) this.#schedule(this.#deliverHeld);
  }

  write(frame: Uint8Array): void {
    // Writes after close()/destroy() are dropped, as there is nobody left to tell.
    if (this.#state !== 'open') return;
    this.#queuedBytes += frame.length;
    if (this.pendingBytes >= DRAIN_NOTICE_BYTES) this.#drainOwed = true;
    if (this.#queue.push(frame) === 1) this.#schedule(this.#flush);
  }

  pauseReading(): void {
    // The socket stops reading; messages it had already read are held.
    this.#paused = true;
    this.#socket.pause?.();
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket.resume?.();
    if (this.#handler && this.#held.length > 0) this.#schedule(this.#deliverHeld);
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
      this.#ended = true;
      this.#held = [];
      // The peer's close frame has to be read for the handshake to finish, paused or not;
      // whatever data still arrives is dropped.
      this.#socket.resume?.();
      this.#socket.close(1000);
      this.#closeTimer = setTimeout(() => this.#socket.terminate(), this.#closeTimeoutMs);
    }
    return this.#closePromise;
  }

  destroy(error?: Error): void {
    if (this.#socketClosed || this.#state === 'closed') return;
    this.#state = 'closed';
    this.#ended = true;
    this.#held = [];
    this.#queue = [];
    this.#queuedBytes = 0;
    if (error && !this.#error) this.#error = error;
    this.#socket.terminate();
  }

  readonly #flush = (): void => {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#socketClosed) return;
    // Sends complete in order: the last one's completion reports them all.
    const messages: Uint8Array[] = [];
    let run: Uint8Array[] = [];
    let runBytes = 0;
    const endRun = () => {
      if (run.length === 1) messages.push(run[0]);
      else if (run.length > 1) messages.push(concat(run, runBytes));
      run = [];
      runBytes = 0;
    };
    for (const frame of queue) {
      if (frame.length >= COALESCE_LIMIT) {
        endRun();
        messages.push(frame);
        continue;
      }
      if (runBytes + frame.length > COALESCE_LIMIT) endRun();
      run.push(frame);
      runBytes += frame.length;
    }
    endRun();
    const last = messages.length - 1;
    const reportLast = this.#drainOwed;
    this.#drainOwed = false;
    for (let i = 0; i < last; i++) this.#socket.send(messages[i]);
    if (reportLast) this.#socket.send(messages[last], this.#onSent);
    else this.#socket.send(messages[last]);
  };

  readonly #onSent = (): void => {
    if (this.#state !== 'open' || !this.#handler?.onDrain) return;
    try {
      this.#handler.onDrain();
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  };

  #onMessage(data: Uint8Array): void {
    if (this.#state !== 'open') return;
    if (!this.#handler || this.#paused || this.#held.length > 0) {
      this.#held.push(data);
      return;
    }
    this.#deliver(data);
  }

  #deliver(data: Uint8Array): boolean {
    try {
      this.#handler!.onData(data);
      return true;
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }

  readonly #deliverHeld = (): void => {
    // Messages that came before the handler are delivered even when the peer has closed since.
    while (this.#held.length > 0 && !this.#ended && !this.#paused) {
      if (!this.#deliver(this.#held.shift()!)) break;
    }
    if (this.#socketClosed) {
      this.#held = [];
      this.#notify();
    }
  };

  #onError(error: Error): void {
    this.#error ??= new ConnectionError(
      `websocket ${this.localAddress}->${this.remoteAddress}: ${error.message}`,
      { cause: error },
    );
  }

  #onClose(code: number, reason: string): void {
    if (this.#socketClosed) return;
    const wasOpen = this.#state === 'open';
    this.#socketClosed = true;
    this.#state = 'closed';
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    // A close we did not start, without an orderly close frame, is a failure.
    if (wasOpen && !CLEAN_CLOSE_CODES.has(code)) {
      this.#error ??= new ConnectionError(
        `websocket ${this.localAddress}->${this.remoteAddress}: closed with code ${code}${reason ? ` (${reason})` : ''}`,
      );
    }
    this.#closeResolve?.();
    if (this.#handler && this.#held.length === 0) this.#notify();
    else if (this.#handler) this.#schedule(this.#deliverHeld);
  }

  #notify(): void {
    if (this.#notified) return;
    this.#notified = true;
    this.#handler!.onClose(this.#error);
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
