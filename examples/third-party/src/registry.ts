// A registry: a register plugin for servers and a discovery for clients, built on
// @rpcx/registry-kit's base classes, which keep the list, check entries, retry, refresh Go's
// `calls`/`connections` rates and roll back failed registrations. What is left to write is the
// backend: here a shared directory, one file per server and service
// (`<dir>/<basePath>/<service>/<encoded network@address>`, its content the metadata), and a
// discovery that polls it. A real backend (etcd, Consul) would watch instead of polling, and
// tie each file to a lease so that a killed server's entry goes away; this one keeps it.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceDiscovery } from '@rpcx/core';
import {
  RegistryDiscovery,
  RegistryRegisterPlugin,
  type RawEntry,
  type RegistryDiscoveryOptions,
  type RegistryRegisterPluginOptions,
} from '@rpcx/registry-kit';

export interface DirectoryRegistryOptions {
  /** The shared directory. */
  dir: string;
  /** A folder inside it, Go's `BasePath`. Default `rpcx`. */
  basePath?: string;
}

const serviceDir = (o: DirectoryRegistryOptions, service: string) => join(o.dir, o.basePath ?? 'rpcx', service);

export type DirectoryRegisterOptions = DirectoryRegistryOptions & RegistryRegisterPluginOptions;

/** `server.use(directoryRegisterPlugin({ dir, serviceAddress: 'tcp@127.0.0.1:8972' }))`. */
export function directoryRegisterPlugin(options: DirectoryRegisterOptions): DirectoryRegisterPlugin {
  return new DirectoryRegisterPlugin(options);
}

export class DirectoryRegisterPlugin extends RegistryRegisterPlugin {
  readonly name = 'directory-register';

  constructor(private readonly options: DirectoryRegisterOptions) {
    super('directory', options, 60_000); // refresh the rates every minute unless told otherwise
  }

  private file(service: string): string {
    return join(serviceDir(this.options, service), encodeURIComponent(this.serviceAddress));
  }

  protected async open(): Promise<void> {
    await mkdir(join(this.options.dir, this.options.basePath ?? 'rpcx'), { recursive: true });
  }

  protected close(): void {}

  protected where(service: string): string {
    return this.file(service);
  }

  protected async publish(service: string, metadata: string): Promise<void> {
    await mkdir(serviceDir(this.options, service), { recursive: true });
    await writeFile(this.file(service), metadata);
  }

  protected async remove(service: string): Promise<void> {
    await rm(this.file(service), { force: true });
  }

  protected async readNode(service: string): Promise<string | undefined> {
    return readFile(this.file(service), 'utf8').catch(() => undefined);
  }

  protected writeNode(service: string, value: string): Promise<void> {
    return this.publish(service, value);
  }
}

export interface DirectoryDiscoveryOptions extends DirectoryRegistryOptions, RegistryDiscoveryOptions {
  servicePath: string;
  /** How often the directory is read again. Default 500 ms. */
  pollMs?: number;
}

/** `new XClient({ discovery: directoryDiscovery({ dir, servicePath: 'Arith' }), … })`. */
export function directoryDiscovery(options: DirectoryDiscoveryOptions): DirectoryDiscovery {
  return new DirectoryDiscovery(options);
}

export class DirectoryDiscovery extends RegistryDiscovery {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DirectoryDiscoveryOptions) {
    super('directory', serviceDir(options, options.servicePath), options);
  }

  clone(servicePath: string): ServiceDiscovery {
    return new DirectoryDiscovery({ ...this.options, servicePath });
  }

  protected onStart(): void {
    // refresh() tells watchers only when the list changed; a failed read keeps the last list.
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.options.pollMs ?? 500);
    this.timer.unref();
  }

  protected onClose(): void {
    clearInterval(this.timer);
  }

  protected list(): Promise<RawEntry[]> {
    return readServers(serviceDir(this.options, this.options.servicePath));
  }

  protected async listServices(): Promise<Map<string, RawEntry[]>> {
    const base = join(this.options.dir, this.options.basePath ?? 'rpcx');
    const services = new Map<string, RawEntry[]>();
    for (const name of await readdir(base).catch(() => [])) services.set(name, await readServers(join(base, name)));
    return services;
  }
}

/** The servers of one service directory; none when it does not exist. */
async function readServers(dir: string): Promise<RawEntry[]> {
  const files = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  return Promise.all(
    files.map(async (file) => {
      const key = decodeName(file);
      // `location` names the entry in log lines: the key as written, not its file name.
      return { key, value: await readFile(join(dir, file)), location: `${dir}/${key}` };
    }),
  );
}

/** A file name back to its `network@address`; a foreign name that is no encoding stays as it is (the kit then skips it with a warning). */
function decodeName(file: string): string {
  try {
    return decodeURIComponent(file);
  } catch {
    return file;
  }
}
