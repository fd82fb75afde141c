import type { SelectRequest, Selector } from '@rpcx/core';

export interface RandomSelectorOptions {
  /** A uniform number in [0, 1). Default `Math.random`; inject a seeded one for repeatable tests. */
  random?: () => number;
}

/** A uniformly random element of `keys` (undefined when empty). */
export function randomOf(keys: readonly string[], random: () => number): string | undefined {
  const n = keys.length;
  if (n <= 1) return keys[0];
  // Clamp guards a user-supplied random() that returns exactly 1.
  const i = Math.floor(random() * n);
  return keys[i < n ? i : n - 1];
}

/** Go's `RandomSelect` (SelectMode 0): a uniformly random server for every call. */
export function randomSelector(options: RandomSelectorOptions = {}): Selector {
  const random = options.random ?? Math.random;
  let keys: string[] = [];
  return {
    select(_request: SelectRequest): string | undefined {
      return randomOf(keys, random);
    },
    updateServers(servers: ReadonlyMap<string, string>): void {
      keys = [...servers.keys()];
    },
  };
}

/**
 * Go's `RoundRobin` (SelectMode 1): servers in turn, in the order of the map given to
 * `updateServers`. As in Go the position survives updates: after an update the next server
 * is `list[i % newLength]`, so adding or removing a server does not restart from the first.
 */
export function roundRobinSelector(): Selector {
  let keys: string[] = [];
  let index = 0;
  return {
    select(_request: SelectRequest): string | undefined {
      const n = keys.length;
      if (n === 0) return undefined;
      const i = index % n;
      index = i + 1;
      return keys[i];
    },
    updateServers(servers: ReadonlyMap<string, string>): void {
      keys = [...servers.keys()];
    },
  };
}
