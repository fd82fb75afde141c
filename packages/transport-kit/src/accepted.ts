import type { CountingListener } from './network.js';

/**
 * What a listener accepted and still holds, for listeners whose socket must outlive `close()`
 * (QUIC, WebTransport: the connections live on the listener's socket or server). `close()` stops
 * accepting; once every connection is gone, `shutdown` runs once and `drained` settles.
 */
export class AcceptedConnections<T> {
  readonly #live = new Set<T>();
  readonly #shutdown: () => Promise<void> | void;
  #closing = false;
  #shutdownStarted = false;
  #drainedResolve!: () => void;
  readonly drained = new Promise<void>((resolve) => (this.#drainedResolve = resolve));

  /** `shutdown` releases the socket (or server); it must not throw. */
  constructor(shutdown: () => Promise<void> | void) {
    this.#shutdown = shutdown;
  }

  /** `close()` was called: new connections are refused. */
  get closing(): boolean {
    return this.#closing;
  }

  get size(): number {
    return this.#live.size;
  }

  add(connection: T): void {
    this.#live.add(connection);
  }

  /** The connection has ended. */
  delete(connection: T): void {
    this.#live.delete(connection);
    this.#release();
  }

  close(): void {
    this.#closing = true;
    this.#release();
  }

  /** The listener of these connections. */
  listener(network: string, address: string): CountingListener {
    return {
      network,
      address,
      drained: this.drained,
      close: async () => this.close(),
      connectionCount: async () => this.#live.size,
    };
  }

  #release(): void {
    if (!this.#closing || this.#live.size > 0 || this.#shutdownStarted) return;
    this.#shutdownStarted = true;
    void Promise.resolve()
      .then(this.#shutdown)
      .finally(() => this.#drainedResolve());
  }
}
