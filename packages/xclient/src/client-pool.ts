import { ConfigError } from '@rpcx/core';
import type { CallOptions } from './rpc-client.js';
import type { Receipt } from './fan-out.js';
import { XClient, type ServiceClient, type XClientOptions } from './xclient.js';

/** Options of a `OneClient`: an XClient's, without the service path, which each call names. */
export type OneClientOptions = Omit<XClientOptions, 'servicePath'>;

/** `count` members made by `make`, handed out round robin (Go's pools). */
class RoundRobin<T extends { close(): Promise<void> }> {
  private readonly members: T[];
  private next = 0;

  constructor(count: number, make: () => T) {
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`pool size must be a positive integer, got ${count}`);
    this.members = Array.from({ length: count }, make);
  }

  get(): T {
    const member = this.members[this.next];
    this.next = (this.next + 1) % this.members.length;
    return member;
  }

  close(): Promise<unknown> {
    return Promise.all(this.members.map((m) => m.close()));
  }
}

/**
 * `count` independent XClients for one service, handed out round robin (Go `XClientPool`):
 * each has its own connections and selector, so calls spread over several sockets per server.
 * They share the discovery, which `close()` closes only with `ownDiscovery`.
 */
export class XClientPool {
  private readonly pool: RoundRobin<XClient>;

  constructor(
    count: number,
    private readonly options: XClientOptions,
  ) {
    this.pool = new RoundRobin(count, () => new XClient({ ...options, ownDiscovery: false }));
  }

  /** The next client, round robin. */
  get(): XClient {
    return this.pool.get();
  }

  async close(): Promise<void> {
    await this.pool.close();
    if (this.options.ownDiscovery) await this.options.discovery.close();
  }
}

/**
 * One client for many services (Go `OneClient`): every call names its service path, and an
 * XClient per service path is made on first use from `discovery.clone(servicePath)`. The
 * clones are the OneClient's own and are closed with it; the discovery you gave is closed
 * only with `ownDiscovery`.
 */
export class OneClient {
  private readonly clients = new Map<string, XClient>();
  private closed = false;

  constructor(private readonly options: OneClientOptions) {}

  /** The XClient serving `servicePath`. */
  service(servicePath: string): XClient {
    let c = this.clients.get(servicePath);
    if (!c) {
      c = new XClient({ ...this.options, servicePath, discovery: this.options.discovery.clone(servicePath), ownDiscovery: true });
      if (this.closed) void c.close();
      this.clients.set(servicePath, c);
    }
    return c;
  }

  call<R = unknown>(servicePath: string, method: string, args: unknown, options?: CallOptions): Promise<R> {
    return this.service(servicePath).call<R>(method, args, options);
  }

  oneshot(servicePath: string, method: string, args: unknown, options?: CallOptions): Promise<void> {
    return this.service(servicePath).oneshot(method, args, options);
  }

  broadcast<R = unknown>(servicePath: string, method: string, args: unknown, options?: CallOptions): Promise<R> {
    return this.service(servicePath).broadcast<R>(method, args, options);
  }

  fork<R = unknown>(servicePath: string, method: string, args: unknown, options?: CallOptions): Promise<R> {
    return this.service(servicePath).fork<R>(method, args, options);
  }

  inform<R = unknown>(servicePath: string, method: string, args: unknown, options?: CallOptions): Promise<Receipt<R>[]> {
    return this.service(servicePath).inform<R>(method, args, options);
  }

  typed<S>(servicePath: string): ServiceClient<S> {
    return this.service(servicePath).typed<S>();
  }

  /** Close every XClient made so far (and their discovery clones). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    if (this.options.ownDiscovery) await this.options.discovery.close();
  }
}

/**
 * `count` independent OneClients, handed out round robin (Go `OneClientPool`). They share the
 * discovery, which `close()` closes only with `ownDiscovery`.
 */
export class OneClientPool {
  private readonly pool: RoundRobin<OneClient>;

  constructor(
    count: number,
    private readonly options: OneClientOptions,
  ) {
    this.pool = new RoundRobin(count, () => new OneClient({ ...options, ownDiscovery: false }));
  }

  /** The next OneClient, round robin. */
  get(): OneClient {
    return this.pool.get();
  }

  async close(): Promise<void> {
    await this.pool.close();
    if (this.options.ownDiscovery) await this.options.discovery.close();
  }
}
