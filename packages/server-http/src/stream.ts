import { Duplex } from 'node:stream';
import { ServerBufferFullError, type Connection } from '@rpcx/core';
import type { ConnectionOutlet } from '@rpcx/server';

function splitAddress(address: string): { host: string | undefined; port: number | undefined } {
  const colon = address.lastIndexOf(':');
  if (colon < 0) return { host: address || undefined, port: undefined };
  const port = Number(address.slice(colon + 1));
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number.isInteger(port) ? port : undefined };
}

/**
 * A server `Connection` as the Duplex stream Node's HTTP parser reads requests from and writes
 * responses to (`http.Server` takes any Duplex through its 'connection' event). Works over
 * every transport that yields a Connection (TCP, TLS, unix sockets, in-memory).
 *
 * Both directions keep Node's stream back-pressure: when the parser takes no more (Node pauses
 * a socket whose client does not read its responses) reading the connection is held until it
 * asks again, and a write while the connection's unsent bytes are over the server's
 * high-water mark completes only once they have drained, which in turn stops Node parsing
 * pipelined requests. A connection whose unread bytes still pass `maxBuffered` (a transport
 * that cannot stop reading at once) is destroyed.
 */
export class ConnectionStream extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Requests seen on this connection (Go routes a connection by its first request). */
  requests = 0;
  /** The callback of a write made while congested, called once the connection drains. */
  private writeDone: (() => void) | undefined;

  constructor(
    readonly connection: Connection,
    private readonly outlet: ConnectionOutlet,
    private readonly maxBuffered: number,
  ) {
    super({ allowHalfOpen: false });
    const remote = splitAddress(connection.remoteAddress);
    const local = splitAddress(connection.localAddress);
    this.remoteAddress = remote.host;
    this.remotePort = remote.port;
    this.localAddress = local.host;
    this.localPort = local.port;
  }

  /** Bytes from the connection. */
  feed(chunk: Uint8Array): void {
    if (this.destroyed) return;
    if (!this.push(chunk)) this.outlet.holdReading(true);
    if (this.readableLength > this.maxBuffered) this.destroy(new ServerBufferFullError(this.maxBuffered));
  }

  /** The connection's unsent bytes are back under the high-water mark. */
  drained(): void {
    const done = this.writeDone;
    this.writeDone = undefined;
    done?.();
  }

  /** The connection is gone. */
  gone(): void {
    if (this.destroyed) return;
    this.push(null);
    this.destroy();
  }

  override _read(): void {
    // The parser wants more: feed() pushes what the connection delivers.
    this.outlet.holdReading(false);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.send(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  private send(bytes: Uint8Array, callback: () => void): void {
    this.outlet.write(bytes);
    if (this.outlet.congested) this.writeDone = callback;
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    void this.connection.close();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.connection.closed) this.connection.destroy(error ?? undefined);
    callback(error);
  }

  // The socket calls Node's HTTP server may make; connections keep their own settings.
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
