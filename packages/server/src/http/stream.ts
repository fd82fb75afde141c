import { Duplex } from 'node:stream';
import type { Connection } from '@rpcx/core';

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
 * every transport that yields a Connection (TCP, TLS, unix sockets, in-memory), so the
 * Connection contract needs nothing new. The connection has no way to resume reading once
 * paused, so bytes are pushed as they arrive; a connection whose unread bytes pass
 * `maxBuffered` (a client that keeps sending while its requests are not read) is destroyed.
 */
export class ConnectionStream extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Requests seen on this connection (Go routes a connection by its first request). */
  requests = 0;

  constructor(
    readonly connection: Connection,
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
    this.push(chunk);
    if (this.readableLength > this.maxBuffered) this.destroy(new Error('http: too many unread bytes'));
  }

  /** The connection is gone. */
  gone(): void {
    if (this.destroyed) return;
    this.push(null);
    this.destroy();
  }

  override _read(): void {
    // Bytes are pushed by feed(); a Connection cannot be asked for more.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.connection.write(chunk);
    callback();
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.connection.write(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)));
    callback();
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
