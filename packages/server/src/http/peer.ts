import {
  UnsupportedError,
  ConnectionClosedError,
  type Connection,
  type ConnectionHandler,
  type Metadata,
} from '@rpcx/core';
import type { CallContext, ContextOwner } from '../context.js';

const NO_PUSH = 'rpcx: server push is not possible on an HTTP gateway or JSON-RPC connection';
const READ_BY_SERVER = 'an HTTP connection is read by the server';

/**
 * What services and plugins see as `ctx.connection` for a call that came over HTTP: the
 * accepted connection's addresses and lifecycle, but no writes, since an rpcx frame
 * written into an HTTP stream would corrupt it (Go would write it anyway on JSON-RPC), and
 * no say over reading, which the server's HTTP side paces itself.
 * One per HTTP connection, so plugins can key on it.
 */
export class HttpConnection implements Connection {
  constructor(private readonly inner: Connection) {}

  get network(): string {
    return this.inner.network;
  }
  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }
  get localAddress(): string {
    return this.inner.localAddress;
  }
  get pendingBytes(): number {
    return this.inner.pendingBytes;
  }
  get closed(): boolean {
    return this.inner.closed;
  }
  setHandler(_handler: ConnectionHandler): void {
    throw new UnsupportedError(READ_BY_SERVER);
  }
  write(_frame: Uint8Array): void {
    throw new UnsupportedError(NO_PUSH);
  }
  pauseReading(): void {
    throw new UnsupportedError(READ_BY_SERVER);
  }
  resumeReading(): void {
    throw new UnsupportedError(READ_BY_SERVER);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  destroy(error?: Error): void {
    this.inner.destroy(error);
  }
}

/** The owner of the call contexts of one HTTP connection: aborts their signals when it is lost. */
export class HttpPeer implements ContextOwner {
  readonly connection: HttpConnection;
  private readonly watched = new Set<CallContext>();

  constructor(inner: Connection) {
    this.connection = new HttpConnection(inner);
  }

  push(_servicePath: string, _serviceMethod: string, _payload: Uint8Array | string, _metadata?: Metadata): Promise<void> {
    return Promise.reject(new UnsupportedError(NO_PUSH));
  }

  watch(ctx: CallContext): void {
    this.watched.add(ctx);
  }

  unwatch(ctx: CallContext): void {
    this.watched.delete(ctx);
  }

  lost(error?: Error): void {
    for (const ctx of this.watched) ctx.connectionLost(error ?? new ConnectionClosedError('connection closed'));
    this.watched.clear();
  }
}
