/**
 * A registry kept in this process's memory, built on the kit's base classes the way a real
 * backend package is: the reference the compliance suite and the base classes are tested
 * against. `faults` switches on one defect at a time, to show the suite catches it.
 */
import { EventEmitter } from 'node:events';
import { ConfigError, type ServiceDiscovery, type ServiceEntry } from '@rpcx/core';
import {
  RegistryDiscovery,
  RegistryRegisterPlugin,
  servicesUnder,
  type RawEntry,
  type RegistryDiscoveryOptions,
  type RegistryRegisterPluginOptions,
} from '../src/index.js';

export class MemoryStore extends EventEmitter {
  readonly data = new Map<string, Uint8Array | string>();
  /** While true every operation fails, as an unreachable registry would. */
  down = false;
  /** Operations seen, for tests of ordering. */
  readonly log: string[] = [];

  private check(): void {
    if (this.down) throw new Error('memory store is down');
  }

  async put(key: string, value: Uint8Array | string): Promise<void> {
    this.check();
    this.log.push(`put ${key}`);
    this.data.set(key, value);
    this.emit('change', key);
  }

  async delete(key: string): Promise<void> {
    this.check();
    this.log.push(`delete ${key}`);
    if (this.data.delete(key)) this.emit('change', key);
  }

  async get(key: string): Promise<Uint8Array | string | undefined> {
    this.check();
    return this.data.get(key);
  }

  async list(prefix: string): Promise<[string, Uint8Array | string][]> {
    this.check();
    return [...this.data].filter(([key]) => key.startsWith(prefix));
  }
}

export interface MemoryFaults {
  /** The discovery passes every stored entry through, unchecked. */
  noEntryChecks?: boolean;
  /** The discovery never tells watchers. */
  noWatch?: boolean;
  /** The plugin's refresh writes the metadata back without rates. */
  noRates?: boolean;
  /** `listAll` reports the discovery's own service only. */
  listOneService?: boolean;
}

export interface MemoryPluginOptions extends RegistryRegisterPluginOptions {
  store: MemoryStore;
  basePath: string;
  faults?: MemoryFaults;
}

export class MemoryRegisterPlugin extends RegistryRegisterPlugin {
  readonly name = 'memory-register';
  opened = 0;
  closed = 0;

  constructor(private readonly options: MemoryPluginOptions) {
    super('memory', options, 0);
  }

  nodeKey(serviceName: string): string {
    return `${this.options.basePath}/${serviceName}/${this.serviceAddress}`;
  }

  /** Stand-in for a lost lease or session: everything is written again. */
  lose(): Promise<void> {
    return this.recover(this.epoch);
  }

  protected async open(): Promise<void> {
    this.opened++;
    await this.serial(() => this.options.store.put(this.options.basePath, 'rpcx_path'));
  }

  protected close(): void {
    this.closed++;
  }

  protected where(serviceName: string): string {
    return this.nodeKey(serviceName);
  }

  protected async publish(serviceName: string, metadata: string): Promise<void> {
    await this.options.store.put(`${this.options.basePath}/${serviceName}`, serviceName);
    await this.options.store.put(this.nodeKey(serviceName), metadata);
  }

  protected remove(serviceName: string): Promise<void> {
    return this.options.store.delete(this.nodeKey(serviceName));
  }

  protected async readNode(serviceName: string): Promise<string | undefined> {
    const value = await this.options.store.get(this.nodeKey(serviceName));
    return value === undefined ? undefined : Buffer.from(value).toString();
  }

  protected writeNode(serviceName: string, value: string): Promise<void> {
    const metadata = this.services.get(serviceName) ?? '';
    return this.options.store.put(this.nodeKey(serviceName), this.options.faults?.noRates ? metadata : value);
  }

  protected override checkServiceName(serviceName: string): void {
    if (serviceName.includes('/')) throw new ConfigError(`memory: no "/" in service names: ${serviceName}`);
  }
}

export interface MemoryDiscoveryOptions extends RegistryDiscoveryOptions {
  store: MemoryStore;
  basePath: string;
  servicePath: string;
  faults?: MemoryFaults;
}

export class MemoryDiscovery extends RegistryDiscovery {
  private readonly prefix: string;
  private readonly onChange = (key: string) => {
    if (key.startsWith(this.prefix)) void this.refresh().catch(() => undefined);
  };

  constructor(private readonly options: MemoryDiscoveryOptions) {
    const prefix = `${options.basePath}/${options.servicePath}/`;
    super('memory', prefix, options);
    this.prefix = prefix;
  }

  clone(servicePath: string): ServiceDiscovery {
    return new MemoryDiscovery({ ...this.options, servicePath });
  }

  /** Another listing now, as a backend's change notification would ask for. */
  poke(): Promise<void> {
    return this.refresh();
  }

  protected onStart(): void {
    if (!this.options.faults?.noWatch) this.options.store.on('change', this.onChange);
  }

  protected onClose(): void {
    this.options.store.off('change', this.onChange);
  }

  protected async list(): Promise<RawEntry[]> {
    const pairs = await this.options.store.list(this.prefix);
    return pairs.map(([key, value]) => ({ key: key.slice(this.prefix.length), value, location: key }));
  }

  protected async listServices(): Promise<Map<string, RawEntry[]>> {
    const services = servicesUnder(`${this.options.basePath}/`, (await this.options.store.list(`${this.options.basePath}/`)).map(([key, value]) => ({ key, value })));
    if (this.options.faults?.listOneService) for (const name of services.keys()) if (name !== this.options.servicePath) services.delete(name);
    return services;
  }

  override async getServices(): Promise<ServiceEntry[]> {
    if (!this.options.faults?.noEntryChecks) return super.getServices();
    // The defect: every stored entry goes through as it is.
    const raw = await this.list();
    return raw.map((e) => ({ key: e.key, value: Buffer.from(e.value ?? '').toString() })).sort((x, y) => (x.key < y.key ? -1 : 1));
  }
}
