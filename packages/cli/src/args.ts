import { jsonCodec } from '@rpcx/codec-json';
import { UsageError, parseServerKey, splitHostPort } from '@rpcx/core';

/** A mistake in the command line (@rpcx/core's `UsageError`): printed with the command's usage hint, exit code 2. */
export { UsageError };

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`500ms`, `5s`, `1m30s`, `1.5s`) in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m) break;
    ms += Number(m[1]) * UNITS[m[2]];
    at = part.lastIndex;
  }
  if (at === 0 || at !== text.length) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}: use a duration such as 500ms, 5s or 1m`);
  }
  return ms;
}

/** A positive integer flag. */
export function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}: expected a positive whole number`);
  return n;
}

/** `--meta k=v` pairs. */
export function parseMeta(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid --meta ${JSON.stringify(pair)}: expected key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `Service.Method`, split at the last dot as Go's JSON-RPC does. */
export function parseServiceMethod(text: string | undefined): { servicePath: string; method: string } {
  if (text === undefined) throw new UsageError('missing <Service.Method>');
  const dot = text.lastIndexOf('.');
  if (dot <= 0 || dot === text.length - 1) throw new UsageError(`${JSON.stringify(text)} is not Service.Method (e.g. Arith.Mul)`);
  return { servicePath: text.slice(0, dot), method: text.slice(dot + 1) };
}

export type Target =
  | { kind: 'server'; key: string; network: string }
  | { kind: 'registry'; registry: Registry; endpoints: string[]; basePath: string; text: string };

export type Registry = 'etcd' | 'zookeeper' | 'consul' | 'redis' | 'mdns';

const REGISTRY = /^(etcd|etcd3|zookeeper|zk|consul|redis):\/\/([^/]*)(\/.*)?$/;
const SCHEMES: Record<string, { registry: Registry; port: number }> = {
  etcd: { registry: 'etcd', port: 2379 },
  etcd3: { registry: 'etcd', port: 2379 },
  zookeeper: { registry: 'zookeeper', port: 2181 },
  zk: { registry: 'zookeeper', port: 2181 },
  consul: { registry: 'consul', port: 8500 },
  redis: { registry: 'redis', port: 6379 },
};

/**
 * Where to call: a server (`tcp@127.0.0.1:8972`, `127.0.0.1:8972`, `unix@/tmp/rpcx.sock`,
 * `ws@…`, `http@…`) or a registry URL (`etcd://127.0.0.1:2379/rpcx_test`,
 * `zookeeper://127.0.0.1:2181/rpcx_test`, `consul://…`, `redis://…`; several endpoints
 * comma-separated; `mdns://` for the local network).
 */
export function parseTarget(text: string | undefined): Target {
  if (text === undefined || text === '') throw new UsageError('missing <address|registry>');
  if (/^mdns:\/\/\/?$/.test(text)) return { kind: 'registry', registry: 'mdns', endpoints: [], basePath: '', text };
  const reg = REGISTRY.exec(text);
  if (reg) {
    const { registry, port } = SCHEMES[reg[1]];
    const endpoints = reg[2].split(',').filter(Boolean);
    const basePath = reg[3] ?? '';
    if (endpoints.length === 0) throw new UsageError(`${text}: no ${registry} host, e.g. ${reg[1]}://127.0.0.1:${port}/rpcx_test`);
    if (basePath === '' || basePath === '/') throw new UsageError(`${text}: no base path, e.g. ${reg[1]}://${reg[2]}/rpcx_test (the server's BasePath)`);
    return { kind: 'registry', registry, endpoints, basePath, text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new UsageError(`${text}: unknown registry; use etcd://, zookeeper://, consul:// or redis://host:port/basePath, or mdns://`);
  }
  const key = text.includes('@') ? text : `tcp@${text}`;
  try {
    const { network, address } = parseServerKey(key);
    if (network !== 'unix' && network !== 'memu') splitHostPort(address);
    return { kind: 'server', key, network };
  } catch (err) {
    throw new UsageError(`${JSON.stringify(text)} is not an address (${(err as Error).message}); e.g. tcp@127.0.0.1:8972`);
  }
}

const json = jsonCodec();

/** The call's arguments: JSON text, integers beyond 2^53 kept exact (as bigint) for int64 fields. */
export function parseJsonArgs(text: string): unknown {
  try {
    return json.decode(Buffer.from(text, 'utf8'));
  } catch (err) {
    throw new UsageError(`the arguments are not valid JSON (${(err as Error).message}); quote them for your shell, e.g. '{"A":10,"B":20}'`);
  }
}
