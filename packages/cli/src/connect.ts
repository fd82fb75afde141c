import { CliError, parseServerKey, type ServiceDiscovery, type ServiceEntry, type Transport } from '@rpcx/core';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer, type XClientOptions } from '@rpcx/xclient';
import type { Registry, Target } from './args.js';

/** A failure the user can act on (unreachable, not found, …; @rpcx/core's `CliError`): printed as is, exit code 1. */
export { CliError };

/**
 * `err`'s message and those of its causes: fetch says only "fetch failed", its cause says why
 * (`connect ECONNREFUSED 127.0.0.1:2379`).
 */
export function withCauses(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 5; e = (e as { cause?: unknown }).cause) {
    const text = e instanceof Error ? e.message || (e as NodeJS.ErrnoException).code || e.name : String(e);
    if (!parts.includes(text)) parts.push(text);
    if (!(e instanceof Error)) break;
  }
  return parts.join(': ');
}

/** Transports in optional packages, by network. */
const OPTIONAL_TRANSPORTS: Record<string, { pkg: string; factory: string }> = {
  http: { pkg: '@rpcx/transport-http', factory: 'httpTransport' },
  ws: { pkg: '@rpcx/transport-ws', factory: 'wsTransport' },
  wss: { pkg: '@rpcx/transport-ws', factory: 'wsTransport' },
};

const TCP_NETWORKS = new Set(['tcp', 'tcp4', 'tcp6', 'unix']);

/** Import an optional `@rpcx` package, or say which one to install. */
export async function optional(pkg: string, purpose: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(pkg)) throw new CliError(`${purpose} needs ${pkg}: npm install ${pkg}`, { cause: err });
    throw err;
  }
}

/** The transports that dial `networks`. */
export async function transportsFor(networks: Iterable<string>): Promise<Transport[]> {
  const out: Transport[] = [tcpTransport()];
  const loaded = new Set<string>();
  for (const network of networks) {
    if (TCP_NETWORKS.has(network)) continue;
    const spec = OPTIONAL_TRANSPORTS[network];
    if (!spec) throw new CliError(`network ${JSON.stringify(network)} is not supported by the rpcx command (tcp, tcp4, tcp6, unix, http, ws, wss)`);
    if (loaded.has(spec.pkg)) continue;
    loaded.add(spec.pkg);
    const mod = await optional(spec.pkg, `network ${network}`);
    out.push((mod[spec.factory] as () => Transport)());
  }
  return out;
}

/** Each registry's `@rpcx` package, its discovery factory, and that factory's options. */
const REGISTRY_PACKAGES: Record<Registry, { pkg: string; what: string; options(t: RegistryTarget, servicePath: string, timeoutMs: number): Record<string, unknown> }> = {
  etcd: { pkg: '@rpcx/registry-etcd', what: 'an etcd registry', options: (t, servicePath, timeoutMs) => ({ endpoints: t.endpoints, basePath: t.basePath, servicePath, timeoutMs }) },
  zookeeper: { pkg: '@rpcx/registry-zookeeper', what: 'a ZooKeeper registry', options: (t, servicePath, timeoutMs) => ({ servers: t.endpoints, basePath: t.basePath, servicePath, timeoutMs }) },
  consul: { pkg: '@rpcx/registry-consul', what: 'a Consul registry', options: (t, servicePath, timeoutMs) => ({ address: t.endpoints[0], basePath: t.basePath, servicePath, timeoutMs }) },
  redis: { pkg: '@rpcx/registry-redis', what: 'a Redis registry', options: (t, servicePath, timeoutMs) => ({ address: t.endpoints[0], basePath: t.basePath, servicePath, timeoutMs }) },
  // One browse collects answers for this long; a second is plenty on a local network.
  mdns: { pkg: '@rpcx/registry-mdns', what: 'mDNS', options: (_t, servicePath, timeoutMs) => ({ servicePath, timeoutMs: Math.min(timeoutMs, 1000) }) },
};

type RegistryTarget = Extract<Target, { kind: 'registry' }>;

/** The discovery of `servicePath` in a registry, through its `@rpcx` registry package. */
export async function registryDiscovery(target: RegistryTarget, servicePath: string, timeoutMs: number): Promise<ServiceDiscovery> {
  const spec = REGISTRY_PACKAGES[target.registry];
  const mod = await optional(spec.pkg, spec.what);
  const factory = `${target.registry}Discovery`;
  return (mod[factory] as (o: Record<string, unknown>) => ServiceDiscovery)(spec.options(target, servicePath, timeoutMs));
}

/** Reject after `ms` with `message`, unless `work` settles first. */
export function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(message)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/** The servers of `servicePath` a registry lists now. */
export async function registryServers(target: Extract<Target, { kind: 'registry' }>, servicePath: string, timeoutMs: number): Promise<{ discovery: ServiceDiscovery; servers: ServiceEntry[] }> {
  const discovery = await registryDiscovery(target, servicePath, timeoutMs);
  try {
    const servers = await within(discovery.getServices(), timeoutMs, `${target.text}: no answer from ${target.registry} within ${timeoutMs} ms`);
    return { discovery, servers };
  } catch (err) {
    await discovery.close().catch(() => {});
    throw err instanceof CliError ? err : new CliError(`${target.text}: ${withCauses(err)}`, { cause: err });
  }
}

/** Every service a registry holds (`ServiceDiscovery.listAll`), by name, with its servers. */
export async function registryServices(target: RegistryTarget, timeoutMs: number): Promise<Map<string, ServiceEntry[]>> {
  // listAll reads the base path; the discovery's own service does not matter.
  const discovery = await registryDiscovery(target, '', timeoutMs);
  try {
    if (!discovery.listAll) throw new CliError(`${target.text}: ${target.registry} cannot list every service; name the service`);
    const services = await within(discovery.listAll(), timeoutMs, `${target.text}: cannot read ${target.registry}: no answer within ${timeoutMs} ms`);
    return new Map(services.map((s) => [s.servicePath, s.servers]));
  } catch (err) {
    throw err instanceof CliError ? err : new CliError(`${target.text}: cannot read ${target.registry}: ${withCauses(err)}`, { cause: err });
  } finally {
    await discovery.close().catch(() => {});
  }
}

export interface ClientSettings {
  serializeType: number;
  timeoutMs: number;
  auth?: string;
}

export interface OpenClient {
  client: XClient;
  /** Close the client and the registry discovery under it. */
  close(): Promise<void>;
}

/** An XClient for `servicePath` at `target` (one server, or every server a registry lists). */
export async function openClient(target: Target, servicePath: string, settings: ClientSettings): Promise<OpenClient> {
  let discovery: ServiceDiscovery;
  let networks: string[];
  if (target.kind === 'server') {
    discovery = peer2peer(target.key);
    networks = [target.network];
  } else {
    const found = await registryServers(target, servicePath, settings.timeoutMs);
    if (found.servers.length === 0) {
      await found.discovery.close().catch(() => {});
      throw new CliError(`${target.text}: no server of ${servicePath} is registered`);
    }
    discovery = found.discovery;
    networks = found.servers.map((s) => parseServerKey(s.key).network);
  }
  const options: XClientOptions = {
    servicePath,
    discovery,
    transports: await transportsFor(networks),
    codecs: [jsonCodec(), msgpackCodec()],
    serializeType: settings.serializeType,
    timeoutMs: settings.timeoutMs,
    connectTimeoutMs: Math.min(settings.timeoutMs || 5000, 5000),
    auth: settings.auth,
  };
  const client = new XClient(options);
  return {
    client,
    async close() {
      await client.close();
      await discovery.close();
    },
  };
}
