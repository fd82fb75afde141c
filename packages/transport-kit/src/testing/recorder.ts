import assert from 'node:assert/strict';
import type { Connection } from '@rpcx/core';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms; fails (an `AssertionError`) when it is still false after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(10);
  }
}

/** Records what a connection's handler is told; sets the handler itself. */
export class Recorder {
  readonly chunks: Uint8Array[] = [];
  /** The error of each `onClose`, in order (one entry is right). */
  readonly closes: (Error | undefined)[] = [];
  received = 0;
  /** Settles with the first `onClose`'s error. */
  readonly closed: Promise<Error | undefined>;
  /** `pendingBytes` at each `onDrain`. */
  readonly drains: number[] = [];
  /** Runs first in every `onData` (a test makes it throw). */
  onDataHook: ((chunk: Uint8Array) => void) | undefined;
  #waiters: { bytes: number; resolve: () => void }[] = [];
  #onClose!: (error: Error | undefined) => void;

  /** `onCall` runs at the start of every handler call (to see when they happen). */
  constructor(
    readonly connection: Connection,
    onCall?: () => void,
  ) {
    this.closed = new Promise((resolve) => (this.#onClose = resolve));
    connection.setHandler({
      onData: (chunk) => {
        onCall?.();
        this.onDataHook?.(chunk);
        this.chunks.push(chunk);
        this.received += chunk.length;
        this.#waiters = this.#waiters.filter((w) => (this.received >= w.bytes ? (w.resolve(), false) : true));
      },
      onClose: (error) => {
        onCall?.();
        this.closes.push(error);
        this.#onClose(error);
      },
      onDrain: () => {
        onCall?.();
        this.drains.push(connection.pendingBytes);
      },
    });
  }

  /** Resolves once `bytes` bytes in total have arrived. */
  waitFor(bytes: number): Promise<void> {
    if (this.received >= bytes) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ bytes, resolve }));
  }

  /** Everything received, in one buffer. */
  data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
