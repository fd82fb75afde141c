import type Bonjour from 'bonjour-service';
import { RegistryDiscovery, type RawEntry, type RegistryDiscoveryOptions } from '@rpcx/registry-kit';
import { SERVICE_NAME, createBonjour, type MdnsOptions } from './advertise.js';
import { decodeTxt } from './txt.js';

export interface MdnsDiscoveryOptions extends RegistryDiscoveryOptions {
  /** The service to find. Required. */
  servicePath: string;
  /** How long one browse collects answers, in ms (Go `timeout`). Default 2000. */
  timeoutMs?: number;
  /** Browse again every this many ms (Go `watchInterval`). Default 10000. */
  watchIntervalMs?: number;
  /**
   * Keep only entries whose `service` is `servicePath`. Go's mDNS discovery does not filter:
   * it returns every service of every rpcx server. Default true; `false` behaves as Go.
   */
  filterByService?: boolean;
  /** Options for the bonjour-service instance (multicast-dns `interface`, `bind`, `port`…). */
  mdnsOptions?: MdnsOptions;
}

/** One Bonjour (one multicast socket) for a discovery and its clones. */
class SharedBonjour {
  private refs = 1;
  constructor(readonly bonjour: Bonjour) {}
  acquire(): SharedBonjour {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.bonjour.destroy();
  }
}

interface FoundService {
  fqdn?: string;
  rawTxt?: Buffer | Buffer[];
}

/**
 * Client-side discovery over mDNS, reading what Go's `MDNSRegisterPlugin` announces: it
 * browses `_rpcxservices.local` for `timeoutMs`, again every `watchIntervalMs`, and turns
 * each instance's TXT record (URL-unescaped JSON array of `{service, meta,
 * service_address}`) into servers, key = `service_address`, value = `meta`.
 *
 * The browse asks the DNS-SD meta-query (`_services._dns-sd._udp.local`) and follows it to
 * `_rpcxservices.local`, which Go's zeroconf answers too; bonjour-service's browser cannot
 * be pointed at a service name without a protocol label directly.
 */
export class MdnsDiscovery extends RegistryDiscovery {
  private readonly timeoutMs: number;
  private readonly watchIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly browsers = new Set<{ stop(): void }>();
  /** Unreadable TXT records already warned about (instance + text), reported once each. */
  private warnedTxt = new Set<string>();

  constructor(
    private readonly options: MdnsDiscoveryOptions,
    private readonly shared: SharedBonjour = new SharedBonjour(createBonjour(options.mdnsOptions, options.logger)),
  ) {
    super('mdns', SERVICE_NAME, options);
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.watchIntervalMs = options.watchIntervalMs ?? 10_000;
  }

  clone(servicePath: string): MdnsDiscovery {
    return new MdnsDiscovery({ ...this.options, servicePath }, this.shared.acquire());
  }

  protected onStart(): void {
    if (!this.known) void this.refresh().catch(() => undefined);
    // Like Go's ticker: a tick that finds a browse still running is dropped, not queued.
    this.timer = setInterval(() => {
      if (!this.listing) void this.refresh().catch(() => undefined);
    }, this.watchIntervalMs);
    this.timer.unref();
  }

  protected onClose(): void {
    clearInterval(this.timer);
    for (const browser of this.browsers) browser.stop();
    this.browsers.clear();
    this.shared.release();
  }

  /** One browse: the servers of `servicePath` (of every service with `filterByService: false`). */
  protected async list(): Promise<RawEntry[]> {
    const entries = await this.browseEntries();
    if (this.options.filterByService ?? true) return entries.filter((e) => e.service === this.options.servicePath);
    // Go's unfiltered list; one server with two services of the same metadata is one entry.
    const seen = new Set<string>();
    return entries.filter((e) => {
      const id = `${e.key}\u0000${e.value as string}`;
      return !seen.has(id) && seen.add(id) !== undefined;
    });
  }

  /** One browse: every service of every server that answers. */
  protected async listServices(): Promise<Map<string, RawEntry[]>> {
    const services = new Map<string, RawEntry[]>();
    for (const entry of await this.browseEntries()) {
      const servers = services.get(entry.service) ?? [];
      services.set(entry.service, servers);
      if (!servers.some((e) => e.key === entry.key && e.value === entry.value)) servers.push(entry);
    }
    return services;
  }

  /**
   * Every `_rpcxservices.local` instance that answers within `timeoutMs`, each TXT decoded
   * into one entry per announced service. An unreadable TXT is skipped with a warning, once.
   */
  private async browseEntries(): Promise<(RawEntry & { service: string })[]> {
    const found = await this.browse();
    const entries: (RawEntry & { service: string })[] = [];
    const seen = new Set<string>();
    const warned = new Set<string>();
    for (const service of found) {
      const strings = Array.isArray(service.rawTxt) ? service.rawTxt : service.rawTxt ? [service.rawTxt] : [];
      let metas;
      try {
        metas = decodeTxt(strings);
      } catch (error) {
        const id = `${service.fqdn}\u0000${Buffer.concat(strings).toString('latin1')}`;
        warned.add(id);
        if (!this.warnedTxt.has(id)) this.logger.warn(`mdns: skipping ${service.fqdn}: ${(error as Error).message}`);
        continue;
      }
      for (const meta of metas) {
        // The same entry twice (one server under two names): once is enough.
        const id = `${meta.service}\u0000${meta.serviceAddress}\u0000${meta.meta}`;
        if (seen.has(id)) continue;
        seen.add(id);
        entries.push({
          service: meta.service,
          key: meta.serviceAddress,
          value: meta.meta,
          location: `${service.fqdn}: ${meta.service} at ${meta.serviceAddress}`,
        });
      }
    }
    this.warnedTxt = warned;
    return entries;
  }

  private browse(): Promise<FoundService[]> {
    const browser = this.shared.bonjour.find(null);
    this.browsers.add(browser);
    return new Promise((resolve) => {
      setTimeout(() => {
        browser.stop();
        this.browsers.delete(browser);
        const suffix = `.${SERVICE_NAME}`.toLowerCase();
        resolve((browser.services as FoundService[]).filter((s) => s.fqdn?.toLowerCase().endsWith(suffix)));
      }, this.timeoutMs);
    });
  }
}

/** An mDNS discovery for an xclient. Starts browsing on first use. */
export function mdnsDiscovery(options: MdnsDiscoveryOptions): MdnsDiscovery {
  return new MdnsDiscovery(options);
}
