import { ConfigError } from '@rpcx/core';
import { browserWsTransport, type BrowserWsTransportOptions } from '@rpcx/transport-ws/browser';
import { XClient, peer2peer, type XClientOptions } from '@rpcx/xclient';

export interface ConnectOptions extends Omit<XClientOptions, 'discovery' | 'ownDiscovery' | 'transports'> {
  /**
   * The server's WebSocket endpoint: `ws://host:port/_rpcx_` or `wss://…`. The path is the
   * server's RPC path (Go `RPCPath`); `/` or none means the default `/_rpcx_`.
   */
  url: string;
  /** Options of the WebSocket transport: `WebSocket` class, `connectTimeoutMs`, `closeTimeoutMs`. */
  transport?: Omit<BrowserWsTransportOptions, 'rpcPath'>;
}

/** `ws://host:port/path` → the server key `ws@host:port` and the RPC path. */
export function parseWsUrl(url: string): { network: 'ws' | 'wss'; address: string; rpcPath: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new ConfigError(`not a URL: ${JSON.stringify(url)}`, { cause: error });
  }
  const network = parsed.protocol === 'ws:' ? 'ws' : parsed.protocol === 'wss:' ? 'wss' : undefined;
  if (!network) throw new ConfigError(`rpcx over WebSocket needs a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  const port = parsed.port || (network === 'ws' ? '80' : '443');
  return { network, address: `${parsed.hostname}:${port}`, rpcPath: parsed.pathname === '/' ? '/_rpcx_' : parsed.pathname };
}

/**
 * An `XClient` for one service on one server, over the browser's WebSocket: the client of
 * `@rpcx/xclient` (calls, oneway, metadata, timeouts, server push, heartbeat) with
 * `peer2peer` discovery and `browserWsTransport`. Nothing is dialled until the first call;
 * `close()` closes the connection.
 */
export function connect(options: ConnectOptions): XClient {
  const { url, transport, ...rest } = options;
  const { network, address, rpcPath } = parseWsUrl(url);
  return new XClient({
    ...rest,
    discovery: peer2peer(`${network}@${address}`),
    ownDiscovery: true,
    transports: [browserWsTransport({ ...transport, rpcPath })],
  });
}
