// The transport of each network the benchmark runs, loaded only when a process uses it: every
// transport adds start-up time (tsx compiles it; QUIC loads a native module), and one smoke run
// (`pnpm bench --quick`) starts about a hundred client and server processes.
import type { Transport } from '@rpcx/core';
import type { QuicServerTlsOptions } from '@rpcx/transport-quic';

export async function transportFor(network: string, serverTls?: QuicServerTlsOptions): Promise<Transport> {
  switch (network) {
    case 'tcp':
      return (await import('@rpcx/transport-tcp')).tcpTransport();
    case 'http':
      return (await import('@rpcx/transport-http')).httpTransport();
    case 'ws':
      return (await import('@rpcx/transport-ws')).wsTransport();
    case 'kcp':
      return (await import('@rpcx/transport-kcp')).kcpTransport();
    case 'quic':
      return (await import('@rpcx/transport-quic')).quicTransport({ serverTls });
    default:
      throw new Error(`the benchmark has no transport for network "${network}"`);
  }
}

/** The networks of server keys (`tcp@127.0.0.1:8972`), each once. */
export function networksOf(keys: readonly string[]): string[] {
  return [...new Set(keys.map((key) => key.slice(0, key.indexOf('@'))))];
}
