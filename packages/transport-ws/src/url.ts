// Shared by the Node transport and the browser client: no Node APIs here.
import { checkPath } from '@rpcx/transport-kit';

/** Go rpcx's `share.DefaultRPCPath`. */
export const DEFAULT_RPC_PATH = '/_rpcx_';

export function checkRpcPath(path: string): string {
  return checkPath('rpcPath', path);
}

/** Go's client URL: `ws://<address><path>`, or `wss://` for network wss. */
export function wsUrl(network: string, address: string, path: string): string {
  return `${network === 'wss' ? 'wss' : 'ws'}://${address}${path}`;
}
