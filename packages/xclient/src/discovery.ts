import type { ServiceDiscovery, ServiceEntry } from '@rpcx/core';

/**
 * One fixed server (Go `NewPeer2PeerDiscovery`): `peer2peer('tcp@127.0.0.1:8972')`.
 */
export function peer2peer(server: string, metadata = ''): ServiceDiscovery {
  return multipleServers([{ key: server, value: metadata }]);
}

/** A fixed list of servers that the application may replace with `update()`. */
export interface MultipleServersDiscovery extends ServiceDiscovery {
  update(entries: ServiceEntry[]): void;
}

/** Go `NewMultipleServersDiscovery`: a static list, changed live with `update()`. */
export function multipleServers(entries: ServiceEntry[]): MultipleServersDiscovery {
  let current = entries.map((e) => ({ ...e }));
  const listeners = new Set<(entries: ServiceEntry[]) => void>();
  const discovery: MultipleServersDiscovery = {
    async getServices() {
      return current.map((e) => ({ ...e }));
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    update(next) {
      current = next.map((e) => ({ ...e }));
      for (const l of listeners) l(current.map((e) => ({ ...e })));
    },
    clone() {
      return multipleServers(current);
    },
    async close() {
      listeners.clear();
    },
  };
  return discovery;
}
