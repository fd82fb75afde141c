import { parseServerKey, type ServiceDiscovery, type ServiceEntry, type Transport } from '@rpcx/core';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer, type XClientOptions } from '@rpcx/xclient';
import type { Target } from './args.js';

/** A failure the user can act on (unreachable, not found, …): printed as is, exit code 1. */
export class CliError extends Error {}

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

/** Import an optional @rpcx package, or say which one to install. */
async function optional(pkg: string, purpose: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(pkg)) throw new CliError(`${purpose} needs ${pkg}: npm install ${pkg}`);
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

/** The discovery of `servicePath` in a registry, through its @rpcx registry package. */
export async function registryDiscovery(target: Extract<Target, { kind: 'registry' }>, servicePath: string, timeoutMs: number): Promise<ServiceDiscovery> {
  if (target.registry === 'etcd') {
    const mod = await optional('@rpcx/registry-etcd', 'an etcd registry');
    const make = mod.etcdDiscovery as (o: Record<string, unknown>) => ServiceDiscovery;
    return make({ endpoints: target.endpoints, basePath: target.basePath, servicePath, timeoutMs });
  }
  const mod = await optional('@rpcx/registry-zookeeper', 'a ZooKeeper registry');
  const make = mod.zookeeperDiscovery as (o: Record<string, unknown>) => ServiceDiscovery;
  return make({ servers: target.endpoints, basePath: target.basePath, servicePath, timeoutMs });
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
    throw err instanceof CliError ? err : new CliError(`${target.text}: ${withCauses(err)}`);
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
