import { ConfigError, type SelectRequest, type Selector } from '@rpcx/core';
import { fmix32, fnv1a64Into, jumpHashHalves, rendezvousScore, type U64 } from './hash.js';
import { defaultHashKey } from './hash-key.js';

export interface ConsistentHashOptions {
  /**
   * The text that decides the server. Default {@link defaultHashKey}:
   * `/servicePath/serviceMethod/<stable text of args>`. Return e.g. a user id from
   * `request.metadata` to pin each user to one server whatever the method.
   */
  key?: (request: SelectRequest) => string;
  /**
   * How the 64-bit FNV-1a hash of the key picks a server from the sorted server list.
   * - `'rendezvous'` (default): highest-random-weight hashing. Depends only on the set of
   *   servers, and any added or removed server moves only the keys it gains or loses
   *   (about 1/n). Costs O(servers) per select.
   * - `'jump'`: Google's jump consistent hash over the sorted list, O(log n) per select.
   *   Minimal movement holds only when the added or removed server sorts last; a server
   *   joining in the middle of the order shifts the servers after it and moves many keys.
   */
  algorithm?: 'rendezvous' | 'jump';
}

/**
 * Go's `ConsistentHash` (SelectMode 4): the same key always goes to the same server while
 * the server set is unchanged, in this process and in every other one (servers are sorted,
 * so insertion order does not matter).
 *
 * It cannot map keys to the same servers as a Go client: Go hashes `fmt.Sprintf("%v", args)`
 * and places servers in `edwingeng/doublejump` slots in map-iteration order, which differs
 * from one Go process to the next.
 */
export function consistentHashSelector(options: ConsistentHashOptions = {}): Selector {
  const keyOf = options.key ?? defaultHashKey;
  const algorithm = options.algorithm ?? 'rendezvous';
  if (algorithm !== 'rendezvous' && algorithm !== 'jump') {
    throw new ConfigError(`consistentHashSelector: unknown algorithm ${JSON.stringify(algorithm)}`);
  }
  let servers: string[] = [];
  // Rendezvous: each server's own mixed hash, precomputed on update.
  let serverHi = new Uint32Array(0);
  let serverLo = new Uint32Array(0);
  const h: U64 = { hi: 0, lo: 0 };

  return {
    select(request: SelectRequest): string | undefined {
      const n = servers.length;
      if (n === 0) return undefined;
      if (n === 1) return servers[0];
      fnv1a64Into(keyOf(request), h);
      if (algorithm === 'jump') return servers[jumpHashHalves(h.hi, h.lo, n)];
      const kHi = h.hi;
      const kLo = h.lo;
      let best = 0;
      let bestScore = -1;
      for (let i = 0; i < n; i++) {
        const score = rendezvousScore(kHi, kLo, serverHi[i], serverLo[i]);
        // Strictly greater: a tie goes to the first in sorted order, the same in every process.
        if (score > bestScore) {
          best = i;
          bestScore = score;
        }
      }
      return servers[best];
    },
    updateServers(map: ReadonlyMap<string, string>): void {
      // Code-unit order; every process running this code sorts identically.
      const sorted = [...map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const his = new Uint32Array(sorted.length);
      const los = new Uint32Array(sorted.length);
      const t: U64 = { hi: 0, lo: 0 };
      for (let i = 0; i < sorted.length; i++) {
        // FNV of similar addresses differs mostly in low bits; mixing spreads the difference.
        fnv1a64Into(sorted[i], t);
        his[i] = fmix32((t.hi ^ fmix32(t.lo)) >>> 0);
        los[i] = fmix32((t.lo ^ fmix32(t.hi)) >>> 0);
      }
      servers = sorted;
      serverHi = his;
      serverLo = los;
    },
  };
}
