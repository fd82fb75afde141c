import { ConnectionClosedError, UnsupportedError, type Connection, type ConnectionHandler, type Metadata } from '@rpcx/core';
import { ConnectionWatchers, type CallOrigin, type ConnectionWatcher } from '@rpcx/server';

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

/** Where the calls of one HTTP connection come from: aborts their signals when it is lost. */
export class HttpPeer implements CallOrigin {
  readonly connection: HttpConnection;
  private readonly watchers = new ConnectionWatchers();

  constructor(inner: Connection) {
    this.connection = new HttpConnection(inner);
  }

  push(_servicePath: string, _serviceMethod: string, _payload: Uint8Array | string, _metadata?: Metadata): Promise<void> {
    return Promise.reject(new UnsupportedError(NO_PUSH));
  }

  watch(watcher: ConnectionWatcher): void {
    this.watchers.watch(watcher);
  }

  unwatch(watcher: ConnectionWatcher): void {
    this.watchers.unwatch(watcher);
  }

  lost(error?: Error): void {
    this.watchers.lost(error ?? new ConnectionClosedError());
  }
}
