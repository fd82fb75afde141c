/**
 * A copy of every byte an `@rpcx` server reads, to a writable stream (Go rpcx's
 * `TeeConnPlugin`), for debugging and capture. Bounded: while the sink holds more than
 * `highWaterMark` unwritten bytes, new bytes are dropped and counted, so a slow sink never
 * grows the server's memory nor slows its connections.
 *
 * @packageDocumentation
 * @module @rpcx/plugin-tee
 */
import type { Writable } from 'node:stream';
import { ConfigError, type Connection, type ConnectionHandler, type Logger, type ServerPlugin } from '@rpcx/core';

export interface TeeOptions {
  /**
   * Most bytes the sink may hold unwritten (`writable.writableLength`); past it, bytes are
   * dropped until it has drained below. @default 1 MiB
   */
  highWaterMark?: number;
  /** Where a sink failure and the first drop after a quiet spell are logged. @default none */
  logger?: Pick<Logger, 'warn'>;
}

/** The tee plugin: `update` switches the sink while serving. */
export interface TeePlugin extends ServerPlugin {
  /** Copy to `sink` from now on (Go's `Update`); `undefined` stops copying. */
  update(sink: Writable | undefined): void;
  /** Bytes copied to a sink so far. */
  readonly copiedBytes: number;
  /** Bytes not copied because the sink was over its high-water mark (or had failed). */
  readonly droppedBytes: number;
}

/**
 * Copies the bytes every accepted connection reads to `sink`, in the order each connection
 * reads them (chunks of concurrent connections interleave, as in Go). Every protocol on the
 * port is copied: rpcx frames and HTTP requests alike. A sink that errors is dropped (and
 * logged); the connections go on.
 *
 * ```ts
 * await server.use(teePlugin(createWriteStream('requests.bin')));
 * ```
 */
export function teePlugin(sink: Writable | undefined, options: TeeOptions = {}): TeePlugin {
  const { highWaterMark = 1024 * 1024, logger } = options;
  if (!(highWaterMark > 0)) throw new ConfigError(`tee: highWaterMark (${highWaterMark}) must be positive`);
  let current: Writable | undefined;
  let copiedBytes = 0;
  let droppedBytes = 0;
  let dropping = false;

  const onSinkError = (error: Error) => {
    logger?.warn(`rpcx: tee sink failed, copying stops: ${error.message}`);
    current = undefined;
  };

  const update = (next: Writable | undefined) => {
    current?.off('error', onSinkError);
    current = next;
    current?.on('error', onSinkError);
  };

  const copy = (chunk: Uint8Array) => {
    const s = current;
    if (!s) return;
    if (s.destroyed || s.writableEnded || s.writableLength + chunk.length > highWaterMark) {
      droppedBytes += chunk.length;
      if (!dropping) logger?.warn(`rpcx: tee sink is over its high-water mark of ${highWaterMark} bytes; dropping bytes`);
      dropping = true;
      return;
    }
    dropping = false;
    copiedBytes += chunk.length;
    // A copy: the connection's reader may keep views of its chunk while the sink queues ours.
    s.write(Buffer.from(chunk));
  };

  update(sink);
  return {
    name: 'tee',
    update,
    get copiedBytes() {
      return copiedBytes;
    },
    get droppedBytes() {
      return droppedBytes;
    },
    connAccept(connection: Connection) {
      return teeConnection(connection, copy);
    },
  };
}

/** `connection` with each chunk it delivers passed to `copy` first. */
function teeConnection(connection: Connection, copy: (chunk: Uint8Array) => void): Connection {
  return {
    get network() {
      return connection.network;
    },
    get remoteAddress() {
      return connection.remoteAddress;
    },
    get localAddress() {
      return connection.localAddress;
    },
    get pendingBytes() {
      return connection.pendingBytes;
    },
    get closed() {
      return connection.closed;
    },
    setHandler(handler: ConnectionHandler) {
      connection.setHandler({
        onData(chunk) {
          copy(chunk);
          handler.onData(chunk);
        },
        onClose: (error) => handler.onClose(error),
        onDrain: handler.onDrain && (() => handler.onDrain!()),
      });
    },
    write: (frame) => connection.write(frame),
    pauseReading: () => connection.pauseReading(),
    resumeReading: () => connection.resumeReading(),
    close: () => connection.close(),
    destroy: (error) => connection.destroy(error),
  };
}
