// `#net` in browser builds (the `browser` condition): a page cannot open TCP connections, so
// the network-quality selector's probe fails there (weight 0, as for an unreachable server).
import { UnsupportedError } from '@rpcx/core';
import type { NetConnectOpts, Socket } from 'node:net';

export type { NetConnectOpts };

export function connect(_options: NetConnectOpts): Socket {
  throw new UnsupportedError('network-quality probes need TCP, which browsers do not offer');
}

export function isIP(_input: string): number {
  return 0;
}
