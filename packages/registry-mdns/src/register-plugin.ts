import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type Bonjour from 'bonjour-service';
import { ConfigError, parseServerKey, splitHostPort } from '@rpcx/core';
import { RegistryRegisterPlugin, withRates, type RegistryRegisterPluginOptions } from '@rpcx/registry-kit';
import { SERVICE_NAME, advertise, createBonjour, type Advertisement, type MdnsOptions } from './advertise.js';
import { encodeServices, txtStrings, type ServiceMeta } from './txt.js';

export interface MdnsRegisterPluginOptions extends RegistryRegisterPluginOptions {
  /**
   * The instance name announced, `<instance>._rpcxservices.local`. Default: the host name,
   * as Go. Give each server on one host its own: two with the same name answer for the same
   * instance and a browser keeps only one of them.
   */
  instance?: string;
  /**
   * Every this many ms the TXT record is rebuilt with `calls`/`connections` rates in each
   * service's metadata (Go `UpdateInterval`). `0` turns this off. Default 60000.
   */
  updateIntervalMs?: number;
  /** The SRV target. Default `<hostname>.local`. */
  host?: string;
  /** Options for the bonjour-service instance (multicast-dns `interface`, `bind`, `port`…). */
  mdnsOptions?: MdnsOptions;
  /** Leave AAAA records out of announcements. Default false. */
  disableIPv6?: boolean;
}

/**
 * Announces this server over mDNS as Go rpcx's `MDNSRegisterPlugin` does: one instance of
 * `_rpcxservices.local` on the port of `serviceAddress`, whose TXT record is ONE string,
 * `url.QueryEscape` of the JSON array `[{"service","meta","service_address"}]` listing every
 * service of this server. The instance is announced at the first `register`; later
 * registrations, unregistrations and the rates refresh replace the TXT in place.
 */
export class MdnsRegisterPlugin extends RegistryRegisterPlugin {
  readonly name = 'mdns-register';

  private readonly port: number;
  private readonly instance: string;
  /** The service address's host when it is an IP: the A/AAAA record of a loopback-only host. */
  private readonly ip: string | undefined;
  /** Each service's metadata as announced (with rates after a refresh, as Go keeps them). */
  private readonly announced = new Map<string, string>();
  private bonjour: Bonjour | undefined;
  private advertisement: Advertisement | undefined;

  constructor(private readonly options: MdnsRegisterPluginOptions) {
    super('mdns', options, 60_000);
    const { address } = parseServerKey(options.serviceAddress);
    let port: number;
    try {
      const hostPort = splitHostPort(address);
      port = Number(hostPort.port);
      this.ip = isIP(hostPort.host) ? hostPort.host : undefined;
    } catch (error) {
      throw new ConfigError(`mdns register plugin: no port in serviceAddress ${options.serviceAddress}`, { cause: error });
    }
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new ConfigError(`mdns register plugin: bad port in serviceAddress ${options.serviceAddress}`);
    this.port = port;
    this.instance = options.instance ?? hostname();
    if (!this.instance) throw new ConfigError('mdns register plugin: instance is empty');
  }

  /** `<instance>._rpcxservices.local` (dots in the instance become `-`, as bonjour-service does). */
  get fqdn(): string {
    return `${this.instance.split('.').join('-')}.${SERVICE_NAME}`;
  }

  /** The TXT string announced now (Go's format), for diagnostics. */
  txt(): string {
    return encodeServices(this.list());
  }

  /** Nothing to connect: Go announces at the first registration. */
  protected async open(): Promise<void> {}

  protected async close(): Promise<void> {
    const advertisement = this.advertisement;
    const bonjour = this.bonjour;
    this.advertisement = undefined;
    this.bonjour = undefined;
    this.announced.clear();
    if (advertisement) await advertisement.stop();
    if (bonjour) await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
  }

  /** On stop the goodbye says it all: no TXT update first. */
  protected override async withdraw(): Promise<void> {}

  protected where(serviceName: string): string {
    return `${this.fqdn} (${serviceName})`;
  }

  protected async publish(serviceName: string, metadata: string): Promise<void> {
    this.announced.set(serviceName, metadata);
    try {
      await this.announce();
    } catch (error) {
      this.announced.delete(serviceName);
      throw error;
    }
  }

  protected async remove(serviceName: string): Promise<void> {
    this.announced.delete(serviceName);
    if (this.advertisement) await this.announce();
  }

  protected async readNode(serviceName: string): Promise<string | undefined> {
    return this.announced.get(serviceName);
  }

  protected async writeNode(serviceName: string, value: string): Promise<void> {
    this.announced.set(serviceName, value);
    await this.announce();
  }

  /** Go's tick: the rates go into every service's metadata, then one TXT update. */
  protected override async refreshAll(_epoch: number, calls: number, connections: number): Promise<void> {
    if (!this.metrics || !this.advertisement) return;
    for (const [name, meta] of this.announced) this.announced.set(name, withRates(meta, calls, connections));
    await this.announce();
  }

  private list(): ServiceMeta[] {
    return [...this.announced].map(([service, meta]) => ({ service, meta, serviceAddress: this.serviceAddress }));
  }

  private async announce(): Promise<void> {
    const strings = txtStrings(encodeServices(this.list()));
    if (this.advertisement) {
      this.advertisement.setTxt(strings);
      return;
    }
    this.bonjour ??= createBonjour(this.options.mdnsOptions, this.logger);
    this.advertisement = await advertise(this.bonjour, {
      instance: this.instance,
      port: this.port,
      host: this.options.host,
      txt: strings,
      disableIPv6: this.options.disableIPv6,
      fallbackAddresses: this.ip ? [this.ip] : [],
    });
  }
}

/** An mDNS register plugin for `server.use(...)`. */
export function mdnsRegisterPlugin(options: MdnsRegisterPluginOptions): MdnsRegisterPlugin {
  return new MdnsRegisterPlugin(options);
}
