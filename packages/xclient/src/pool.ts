import { ConfigError } from '@rpcx/core';
import type { CallOptions } from './rpc-client.js';
import { XClient, type Receipt, type ServiceClient, type XClientOptions } from './xclient.js';

/**
 * `count` independent XClients for one service, handed out round robin (Go `XClientPool`):
 * each has its own connections, so calls spread over several sockets per server.
 */
export class XClientPool {
  private readonly clients: XClient[];
  private next = 0;

  constructor(count: number, options: XClientOptions) {
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`pool size must be a positive integer, got ${count}`);
    this.clients = Array.from({ length: count }, () => new XClient(options));
  }

  /** The next client, round robin. */
  get(): XClient {
    const c = this.clients[this.next];
    this.next = (this.next + 1) % this.clients.length;
    return c;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

/**
 * One client for many services (Go `OneClient`): every call names its service path, and an
 * XClient per service path is made on first use from `discovery.clone(servicePath)`.
 */
export class OneClient {
  private readonly clients = new Map<string, XClient>();
  private closed = false;

  constructor(private readonly options: Omit<XClientOptions, 'servicePath'>) {}

  /** The XClient serving `servicePath`. */
  service(servicePath: string): XClient {
    let c = this.clients.get(servicePath);
    if (!c) {
      c = new XClient({ ...this.options, servicePath, discovery: this.options.discovery.clone(servicePath) });
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

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.clients.values()].map((c) => c.close()));
  }
}
