/** What a selector may look at when choosing a server for one call. */
export interface SelectRequest {
  servicePath: string;
  serviceMethod: string;
  args: unknown;
  /** The call's request metadata (a consistent-hash key may come from here). */
  metadata?: Record<string, string>;
}

/** Chooses a server key for each call; told of every server-list change. */
export interface Selector {
  /** A server key from the current list, or undefined when there is none. */
  select(request: SelectRequest): string | undefined;
  /** The new server list: key `network@address` → metadata (URL query). */
  updateServers(servers: ReadonlyMap<string, string>): void;
}

/** Go's `SelectMode` values, kept for config files and CLIs that use the numbers. */
export const SelectMode = {
  RandomSelect: 0,
  RoundRobin: 1,
  WeightedRoundRobin: 2,
  WeightedICMP: 3,
  ConsistentHash: 4,
  Closest: 5,
  SelectByUser: 1000,
} as const;
export type SelectMode = (typeof SelectMode)[keyof typeof SelectMode];

/** Go's `FailMode` values. */
export const FailMode = {
  Failover: 0,
  Failfast: 1,
  Failtry: 2,
  Failbackup: 3,
} as const;
export type FailMode = (typeof FailMode)[keyof typeof FailMode];
