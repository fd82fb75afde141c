import { DialError, type Connection } from '@rpcx/core';
import { AbstractConnection } from '@rpcx/transport-kit';
import { HeadScanner } from './head.js';

/** Why `readHead` gave up; the transport turns it into Go's wording. Never leaves this package. */
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
 * connection, carrying the rpcx byte stream (the life cycle is @rpcx/transport-kit's
 * `AbstractConnection`; writes go to the connection underneath, which coalesces them). Bytes
 * that came in the same chunk as the end of the head, or before the owner set a handler, are
 * kept and delivered first.
 */
export class TunnelConnection extends AbstractConnection {
  readonly #inner: Connection;
  #inHead = true;
  readonly #scanner = new HeadScanner();
  /** The chunks of the head so far, the last one possibly reaching past its end. */
  #headChunks: Uint8Array[] = [];
  /** Where the head ends in the last chunk, once found. */
  #headEnd = -1;
  #waiter: HeadWaiter | undefined;
  /** Stream bytes that came after a complete head that nobody had asked for yet. */
  #early: Uint8Array[] = [];
  /** readHead failed: whatever still arrives is dropped until the owner closes. */
  #discard = false;
  /** The owner reads (startInput); until then, after the head, the connection underneath is paused. */
  #reading = false;
  #innerClosed = false;
  #closeError: Error | undefined;

  constructor(inner: Connection, network: string) {
    // No close timer of its own: the connection underneath has one.
    super({ network, remoteAddress: inner.remoteAddress, localAddress: inner.localAddress, closeTimeoutMs: 0 });
    this.#inner = inner;
    inner.setHandler({
      onData: (chunk) => this.#onInnerData(chunk),
      onClose: (error) => this.#onInnerClose(error),
      onDrain: () => this.checkDrain(),
    });
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

  protected override get bufferedBytes(): number {
    return this.#inner.pendingBytes;
  }

  protected override sendFrames(frames: Uint8Array[]): void {
    for (const frame of frames) this.#inner.write(frame);
  }

  protected override startInput(): void {
    this.#reading = true;
    this.#inner.resumeReading();
  }

  protected override stopInput(): void {
    this.#reading = false;
    this.#inner.pauseReading();
  }

  protected override endOutput(): void {
    void this.#inner.close();
  }

  protected override abort(error: Error | undefined): void {
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
    this.#headChunks = [];
    const last = chunks[chunks.length - 1];
    chunks[chunks.length - 1] = last.subarray(0, this.#headEnd);
    // Until the owner reads, the rest waits underneath.
    if (!this.#reading) this.#inner.pauseReading();
    waiter.resolve(Buffer.concat(chunks));
    // Bytes after the head in its last chunk are the first of the stream.
    if (this.#headEnd < last.length) this.received(last.subarray(this.#headEnd));
    for (const chunk of this.#early) this.received(chunk);
    this.#early = [];
  }

  #onInnerData(chunk: Uint8Array): void {
    if (this.#discard) return;
    if (!this.#inHead) {
      // A throw in the handler reaches the connection underneath, which is destroyed with it.
      this.received(chunk);
      return;
    }
    if (this.#headEnd >= 0) {
      // The head is complete but nobody asked for it yet: the rest is stream data.
      this.#early.push(chunk);
      return;
    }
    this.#headChunks.push(chunk);
    this.#headEnd = this.#scanner.push(chunk);
    this.#scan();
  }

  #onInnerClose(error: Error | undefined): void {
    this.#innerClosed = true;
    this.#closeError = error;
    if (this.#inHead) this.#scan();
    this.ended(error);
  }
}

/** A DialError for a failed CONNECT exchange, worded as Go's `dial-http` error. */
export function dialHttpError(network: string, address: string, text: string, cause?: unknown): DialError {
  return new DialError(`dial-http ${network} ${address}: ${text}`, { cause });
}
