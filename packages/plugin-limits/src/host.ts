import { splitHostPort } from '@rpcx/core';

/**
 * The host part of a `host:port` remote address, the key of a per-client limit (each client
 * connection has its own port). A unix socket's address has no port and is kept whole.
 */
export function clientHost(remoteAddress: string): string {
  try {
    return splitHostPort(remoteAddress).host;
  } catch {
    return remoteAddress;
  }
}
