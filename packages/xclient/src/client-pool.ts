import { ConfigError } from '@rpcx/core';
import type { CallOptions } from './rpc-client.js';
import type { Receipt } from './fan-out.js';
import { XClient, type ServiceClient, type XClientOptions } from './xclient.js';

/** Options of a `OneClient`: an XClient's, without the service path, which each call names. */
export type OneClientOptions = Omit<XClientOptions, 'servicePath'>;

/**
 * `count` clients made by `make`, handed out round robin (Go's pools). They share the discovery
 * of `options`, which the members never close and `close()` closes only with `ownDiscovery`.
 */
class RoundRobinPool<T extends { close(): Promise<void> }, O extends Pick<XClientOptions, 'discovery' | 'ownDiscovery'>> {
  private readonly members: T[];
  private next = 0;

  constructor(
    count: number,
    private readonly options: O,
    make: (options: O) => T,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`pool size must be a positive integer, got ${count}`);
    this.members = Array.from({ length: count }, () => make({ ...options, ownDiscovery: false }));
  }

  /** The next member, round robin. */
  get(): T {
    const member = this.members[this.next];
    this.next = (this.next + 1) % this.members.length;
    return member;
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
    if (this.options.ownDiscovery) await this.options.discovery.close();
  }
}

/**
 * `count` independent XClients for one service, handed out round robin (Go `XClientPool`):
 * each has its own connections and selector, so calls spread over several sockets per server.
 */
export class XClientPool extends RoundRobinPool<XClient, XClientOptions> {
  constructor(count: number, options: XClientOptions) {
    super(count, options, (o) => new XClient(o));
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

/** `count` independent OneClients, handed out round robin (Go `OneClientPool`). */
export class OneClientPool extends RoundRobinPool<OneClient, OneClientOptions> {
  constructor(count: number, options: OneClientOptions) {
    super(count, options, (o) => new OneClient(o));
  }
}
