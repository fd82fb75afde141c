import { parseServerKey, splitHostPort, queryUnescape, type ServiceEntry } from '@rpcx/core';
import type { RawEntry } from './discovery.js';

/**
 * Networks a Go rpcx client can dial (client/connection*.go) plus the ones `@rpcx` adds.
 * An entry on any other network is skipped: nobody could connect to it.
 */
export const DEFAULT_NETWORKS: readonly string[] = [
  'tcp',
  'tcp4',
  'tcp6',
  'http',
  'unix',
  'ws',
  'wss',
  'quic',
  'kcp',
  'memu',
  'iouring',
  'rdma',
];

/** Networks whose address is a path or a name rather than `host:port`. */
const NON_HOST_PORT = new Set(['unix', 'memu', 'rdma']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode registry bytes; undefined when they are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array | null | undefined): string | undefined {
  if (!bytes || bytes.length === 0) return '';
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Why a metadata value would not parse as a Go `url.ParseQuery` string, or undefined when
 * it is fine. Go's parser reports a bad `%` escape or a `;` as an error; raw control
 * characters never come out of `url.Values.Encode`, so they mean the value is not metadata.
 */
export function metadataProblem(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'control characters in metadata';
  for (const part of value.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) return 'semicolon in metadata';
    const eq = part.indexOf('=');
    try {
      queryUnescape(eq < 0 ? part : part.slice(0, eq));
      if (eq >= 0) queryUnescape(part.slice(eq + 1));
    } catch {
      return 'invalid %-escape in metadata';
    }
  }
  return undefined;
}

/** Why `key` is not a dialable `network@address`, or undefined when it is. */
export function keyProblem(key: string, networks: ReadonlySet<string>): string | undefined {
  let network: string;
  let address: string;
  try {
    ({ network, address } = parseServerKey(key));
  } catch {
    return 'unparseable server key';
  }
  if (!networks.has(network)) return `unknown network ${JSON.stringify(network)}`;
  if (!NON_HOST_PORT.has(network)) {
    try {
      splitHostPort(address);
    } catch {
      return 'unparseable address';
    }
  }
  return undefined;
}

/** Sorted by key, as Go's xclient sorts them; a stable order also makes changes comparable. */
export function sortEntries(entries: ServiceEntry[]): ServiceEntry[] {
  return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function sameEntries(a: readonly ServiceEntry[] | undefined, b: readonly ServiceEntry[]): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].key !== b[i].key || a[i].value !== b[i].value) return false;
  return true;
}

/**
 * Group the keys under `prefix` (`<basePath>/`) by service, reading the layout every rpcx
 * key-value registry writes: `<basePath>/<service>` is the service's own key (listed even
 * with no server), `<basePath>/<service>/<network@address>` one server (the address may
 * hold more slashes, as in `unix@/tmp/s.sock`). Keys not under `prefix` are ignored.
 */
export function servicesUnder(prefix: string, pairs: Iterable<{ key: string; value: RawEntry['value'] }>): Map<string, RawEntry[]> {
  const services = new Map<string, RawEntry[]>();
  for (const { key, value } of pairs) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf('/');
    const service = slash < 0 ? rest : rest.slice(0, slash);
    if (service === '') continue;
    const servers = services.get(service) ?? [];
    services.set(service, servers);
    if (slash >= 0 && slash < rest.length - 1) servers.push({ key: rest.slice(slash + 1), value, location: key });
  }
  return services;
}
