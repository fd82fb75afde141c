// Shared by the Node transport and the browser client: no Node APIs here.
import { ConfigError } from '@rpcx/core';

/** Go rpcx's `share.DefaultRPCPath`. */
export const DEFAULT_RPC_PATH = '/_rpcx_';

export function checkRpcPath(path: string): string {
  if (!/^\/[^\s]*$/.test(path)) throw new ConfigError(`rpcPath must start with "/" and contain no white space: ${JSON.stringify(path)}`);
  return path;
}

/** Go's client URL: `ws://<address><path>`, or `wss://` for network wss. */
export function wsUrl(network: string, address: string, path: string): string {
  return `${network === 'wss' ? 'wss' : 'ws'}://${address}${checkRpcPath(path)}`;
}
