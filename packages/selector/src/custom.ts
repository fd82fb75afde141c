import type { SelectRequest, Selector } from '@rpcx/core';

/** One server as a custom selector sees it. */
export interface ServerEntry {
  /** `network@address`. */
  readonly key: string;
  /** The raw metadata query string (read it with `parseQuery` / `queryGet` from @rpcx/core). */
  readonly metadata: string;
}

/**
 * Go's `SelectByUser` made easy: turns a function into a {@link Selector}. The function gets
 * the call and the current servers (in the order given to `updateServers`) and returns a
 * server key, or undefined for "no server". Any object with `select` and `updateServers`
 * is a selector too; this only saves keeping the list yourself.
 */
export function customSelector(
  pick: (request: SelectRequest, servers: readonly ServerEntry[]) => string | undefined,
): Selector {
  let servers: readonly ServerEntry[] = Object.freeze([]);
  return {
    select(request: SelectRequest): string | undefined {
      return pick(request, servers);
    },
    updateServers(map: ReadonlyMap<string, string>): void {
      servers = Object.freeze([...map].map(([key, metadata]) => Object.freeze({ key, metadata })));
    },
  };
}
