import { ConfigError } from './errors.js';

/** A server key as used by rpcx discovery: `network@address`, e.g. `tcp@127.0.0.1:8972`. */
export interface ServerAddress {
  /** `tcp`, `tcp4`, `tcp6`, `unix`, `http`, `ws`, `wss`, `quic`, `kcp`, `memu`, … */
  network: string;
  /** `host:port`, `[v6]:port` or a socket path for `unix`. */
  address: string;
}

/** Parse `network@address`. A key without `@` means tcp, as in Go's client. */
export function parseServerKey(key: string): ServerAddress {
  const at = key.indexOf('@');
  if (at < 0) return { network: 'tcp', address: key };
  const network = key.slice(0, at);
  const address = key.slice(at + 1);
  if (network === '' || address === '') throw new ConfigError(`invalid server address: ${JSON.stringify(key)}`);
  return { network, address };
}

export function formatServerKey(network: string, address: string): string {
  return `${network}@${address}`;
}

/** Split `host:port` / `[v6]:port` (Go `net.SplitHostPort`). */
export function splitHostPort(address: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    if (end < 0 || address[end + 1] !== ':') throw new ConfigError(`invalid address: ${JSON.stringify(address)}`);
    host = address.slice(1, end);
    portText = address.slice(end + 2);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) throw new ConfigError(`missing port in address: ${JSON.stringify(address)}`);
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(':')) throw new ConfigError(`too many colons in address: ${JSON.stringify(address)}`);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new ConfigError(`invalid port in address: ${JSON.stringify(address)}`);
  return { host, port };
}

/** Join a host and port, bracketing IPv6 literals (Go `net.JoinHostPort`). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
