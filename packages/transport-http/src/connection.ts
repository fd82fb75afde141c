import {
  ConfigError,
  ConnectionError,
  DialError,
  type Connection,
  type ConnectionHandler,
} from '@rpcx/core';
import { HeadScanner } from './head.js';

/** Why `readHead` gave up; the transport turns it into Go's wording. */
export class HeadError extends Error {
  constructor(
    readonly reason: 'eof' | 'unexpected-eof' | 'too-large',
    options?: { cause?: unknown },
  ) {
    super(reason === 'eof' ? 'EOF' : reason === 'unexpected-eof' ? 'unexpected EOF' : 'HTTP head too large', options);
  }
}

interface HeadWaiter {
  maxBytes: number;
  resolve(head: Buffer): void;
  reject(error: HeadError): void;
}

/**
 * A connection whose first bytes are an HTTP head: it owns the TCP (or TLS) connection from
 * @rpcx/transport-tcp underneath, reads the head with `readHead`, and from then on is that
 * connection, carrying the rpcx byte stream. Bytes that came in the same chunk as the end of
 * the head, or before the owner set a handler, are kept and delivered first.
 */
export class TunnelConnection implements Connection {
  readonly network: string;
  readonly #inner: Connection;
  #handler: ConnectionHandler | undefined;
  #inHead = true;
  readonly #scanner = new HeadScanner();
  /** The chunks of the head so far, the last one possibly reaching past its end. */
  #headChunks: Uint8Array[] = [];
  /** Where the head ends in the last chunk, once found. */
  #headEnd = -1;
  #waiter: HeadWaiter | undefined;
  /** readHead failed: whatever still arrives is dropped until the owner closes. */
  #discard = false;
  /** Stream bytes not yet handed to the handler (none set yet, or a delivery is scheduled). */
  #queue: Uint8Array[] = [];
  #drainScheduled = false;
  #paused = false;
  #innerClosed = false;
  #closeError: Error | undefined;
  #notified = false;

  constructor(inner: Connection, network: string) {
    this.#inner = inner;
    this.network = network;
    inner.setHandler({ onData: this.#onInnerData, onClose: this.#onInnerClose, onDrain: this.#onInnerDrain });
  }

  get remoteAddress(): string {
    return this.#inner.remoteAddress;
  }

  get localAddress(): string {
    return this.#inner.localAddress;
  }

  get closed(): boolean {
    return this.#inner.closed;
  }

  get pendingBytes(): number {
    return this.#inner.pendingBytes;
  }

  /**
   * Resolves with the head, blank line included, once it has arrived; rejects with a
   * HeadError when the connection closes first or the head grows past `maxBytes`.
   */
  readHead(maxBytes: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.#waiter = { maxBytes, resolve, reject };
      this.#scan();
    });
  }

  setHandler(handler: ConnectionHandler): void {
    if (this.#handler) throw new ConfigError('Connection.setHandler may be called only once');
    this.#handler = handler;
    // Never call the handler from inside setHandler: its owner may not be ready yet.
    if (this.#queue.length > 0 || this.#innerClosed) this.#scheduleDrain();
  }

  write(frame: Uint8Array): void {
    this.#inner.write(frame);
  }

  pauseReading(): void {
    this.#paused = true;
    this.#inner.pauseReading();
  }

  resumeReading(): void {
    this.#paused = false;
    this.#inner.resumeReading();
    if (this.#handler && this.#queue.length > 0) this.#scheduleDrain();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  destroy(error?: Error): void {
    this.#inner.destroy(error);
  }

  /** Settles the waiter once the head is complete, too large, or cut short by a close. */
  #scan(): void {
    const waiter = this.#waiter;
    if (!waiter || !this.#inHead) return;
    if (this.#scanner.length > waiter.maxBytes) {
      this.#waiter = undefined;
      this.#discard = true;
      this.#headChunks = [];
      waiter.reject(new HeadError('too-large'));
      return;
    }
    if (this.#headEnd < 0) {
      if (this.#innerClosed) {
        this.#waiter = undefined;
        waiter.reject(new HeadError(this.#scanner.length === 0 ? 'eof' : 'unexpected-eof', { cause: this.#closeError }));
      }
      return;
    }
    this.#inHead = false;
    this.#waiter = undefined;
    const chunks = this.#headChunks;
    const last = chunks[chunks.length - 1];
    // Bytes after the head in its last chunk are the first of the stream.
    if (this.#headEnd < last.length) this.#queue.unshift(last.subarray(this.#headEnd));
    chunks[chunks.length - 1] = last.subarray(0, this.#headEnd);
    this.#headChunks = [];
    waiter.resolve(Buffer.concat(chunks));
  }

  readonly #onInnerData = (chunk: Uint8Array): void => {
    if (this.#discard) return;
    if (this.#inHead) {
      if (this.#headEnd >= 0) {
        // The head is complete but nobody asked for it yet: the rest is stream data.
        this.#queue.push(chunk);
        return;
      }
      this.#headChunks.push(chunk);
      this.#headEnd = this.#scanner.push(chunk);
      this.#scan();
      return;
    }
    if (this.#handler && this.#queue.length === 0 && !this.#paused) {
      // A throw here reaches the socket connection underneath, which destroys with it.
      this.#handler.onData(chunk);
      return;
    }
    // Held while paused (the connection underneath stops too; this is what was in flight).
    this.#queue.push(chunk);
    if (this.#handler && !this.#paused) this.#scheduleDrain();
  };

  readonly #onInnerDrain = (): void => {
    // A throw here reaches the connection underneath, which destroys with it.
    if (!this.#inHead) this.#handler?.onDrain?.();
  };

  readonly #onInnerClose = (error?: Error): void => {
    this.#innerClosed = true;
    this.#closeError = error;
    if (this.#inHead) {
      this.#scan();
      return;
    }
    if (this.#handler && !this.#drainScheduled) this.#notify();
  };

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    process.nextTick(this.#drain);
  }

  readonly #drain = (): void => {
    this.#drainScheduled = false;
    const handler = this.#handler!;
    while (this.#queue.length > 0 && !this.#paused) {
      const chunk = this.#queue.shift()!;
      try {
        handler.onData(chunk);
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        this.#queue = [];
        if (!this.#innerClosed) {
          this.destroy(e);
          return;
        }
        this.#closeError ??= e;
        break;
      }
    }
    if (this.#innerClosed) this.#notify();
  };

  #notify(): void {
    if (this.#notified) return;
    this.#notified = true;
    this.#handler!.onClose(this.#closeError);
  }
}

/** A ConnectionError for a failed CONNECT exchange, worded as Go's `dial-http` error. */
export function dialHttpError(network: string, address: string, text: string, cause?: unknown): ConnectionError {
  return new DialError(`dial-http ${network} ${address}: ${text}`, { cause });
}
