import { promises as dns } from 'node:dns';
import { ConfigError, UnsupportedError } from '@rpcx/core';
import { RegistryDiscovery, type RawEntry, type RegistryDiscoveryOptions } from '@rpcx/registry-kit';

export interface DnsDiscoveryOptions extends RegistryDiscoveryOptions {
  /** The name whose A and AAAA records are the servers, e.g. `arith.internal`. Required. */
  domain: string;
  /** The port every server listens on. Required. */
  port: number;
  /** The network of the server keys. Default `tcp`. */
  network?: string;
  /** Resolve again every this many ms (Go's `d`). Default 30000. */
  intervalMs?: number;
  /**
   * DNS servers to ask, `ip` or `ip:port` (`[ipv6]:port`), through Node's `dns.Resolver`.
   * Default: none, and the system resolver is used (`dns.lookup`: /etc/hosts, then DNS), as
   * Go's `net.LookupIP` does.
   */
  servers?: string[];
  /** How long one query to `servers` may take, in ms (c-ares retries within it). Default 5000. */
  timeoutMs?: number;
}

/** No such name, or no address of one family: an empty answer, not an outage. */
const NO_ADDRESS = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'NODATA']);

/**
 * Client-side discovery by DNS, as Go rpcx's `NewDNSDiscovery(domain, network, port, d)`: the
 * domain's A and AAAA records are looked up every `intervalMs`, and each address is one
 * server, `network@ip:port` with empty metadata, sorted.
 *
 * While lookups fail the last list is kept (Go keeps it too); a name that has no address
 * (yet) is an empty list. Watchers hear of a changed list only (Go repeats every lookup).
 */
export class DnsDiscovery extends RegistryDiscovery {
  private readonly network: string;
  private readonly intervalMs: number;
  private readonly resolver: dns.Resolver | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DnsDiscoveryOptions) {
    if (!options.domain) throw new ConfigError('dns discovery: domain is required');
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) throw new ConfigError(`dns discovery: bad port ${options.port}`);
    super('dns', options.domain, options);
    this.network = options.network ?? 'tcp';
    this.intervalMs = options.intervalMs ?? 30_000;
    if (!(this.intervalMs > 0)) throw new ConfigError('dns discovery: intervalMs must be > 0');
    if (options.servers && options.servers.length > 0) {
      this.resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 5000, tries: 2 });
      this.resolver.setServers(options.servers);
    }
  }

  /** The same name: a DNS name serves whatever service is called on it (Go's `Clone`). */
  clone(_servicePath: string): DnsDiscovery {
    return new DnsDiscovery(this.options);
  }

  protected onStart(): void {
    if (!this.known) void this.refresh().catch(() => undefined);
    // A tick that finds a lookup still running is dropped, not queued.
    this.timer = setInterval(() => {
      if (!this.listing) void this.refresh().catch(() => undefined);
    }, this.intervalMs);
    this.timer.unref();
  }

  protected onClose(): void {
    clearInterval(this.timer);
    this.resolver?.cancel();
  }

  protected async list(): Promise<RawEntry[]> {
    const addresses = await this.lookup();
    return addresses.map((ip) => {
      const key = `${this.network}@${ip.includes(':') ? `[${ip}]` : ip}:${this.options.port}`;
      return { key, value: '', location: `${this.options.domain} (${ip})` };
    });
  }

  /** A DNS name has no list of services. */
  protected listServices(): Promise<never> {
    return Promise.reject(new UnsupportedError(`dns: ${this.options.domain} is one name, not a registry of services`));
  }

  /** Every IPv4 and IPv6 address of the domain (deduplicated). */
  private async lookup(): Promise<string[]> {
    const domain = this.options.domain;
    if (!this.resolver) {
      try {
        return [...new Set((await dns.lookup(domain, { all: true, verbatim: true })).map((a) => a.address))];
      } catch (error) {
        if (NO_ADDRESS.has((error as NodeJS.ErrnoException).code ?? '')) return [];
        throw error;
      }
    }
    const family = async (resolve: (name: string) => Promise<string[]>) => {
      try {
        return await resolve(domain);
      } catch (error) {
        if (NO_ADDRESS.has((error as NodeJS.ErrnoException).code ?? '')) return [];
        throw error;
      }
    };
    const resolver = this.resolver;
    const [v4, v6] = await Promise.all([family((n) => resolver.resolve4(n)), family((n) => resolver.resolve6(n))]);
    return [...new Set([...v4, ...v6])];
  }
}

/** A DNS discovery for an xclient. Starts resolving on first use. */
export function dnsDiscovery(options: DnsDiscoveryOptions): DnsDiscovery {
  return new DnsDiscovery(options);
}
