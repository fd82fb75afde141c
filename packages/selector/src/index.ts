/**
 * @packageDocumentation
 * Server selectors for the `@rpcx` xclient, one factory per Go rpcx `SelectMode`: random,
 * round robin, smooth weighted round robin (`weight` metadata), network quality (weights
 * from measured round-trip time), consistent hash (FNV-1a 64 of a key, stable across
 * processes), closest (`latitude` / `longitude`, haversine), and user-defined.
 *
 * Every selector implements `Selector` from @rpcx/core: `select(request)` returns a server
 * key (`network@address`) or undefined, and `updateServers(map)` replaces the server list
 * whenever discovery reports a change. Filter the map with {@link filterServers} first, as
 * Go's xclient does (`state=inactive`, `group`).
 *
 * @module @rpcx/selector
 */
export { randomSelector, roundRobinSelector, type RandomSelectorOptions } from './simple.js';
export {
  weightedRoundRobinSelector,
  SmoothWeighted,
  DEFAULT_MAX_RING_SIZE,
  type WeightedRoundRobinOptions,
} from './weighted.js';
export {
  networkQualitySelector,
  tcpConnectProbe,
  rttToWeight,
  type NetworkQualityOptions,
  type NetworkQualitySelector,
  type Probe,
  type ProbeTarget,
} from './network-quality.js';
export { consistentHashSelector, type ConsistentHashOptions } from './consistent-hash.js';
export { closestSelector, haversineDistance, EARTH_RADIUS_M, type ClosestOptions } from './closest.js';
export { customSelector, type ServerEntry } from './custom.js';
export { selectorFor, type SelectorForOptions } from './select-mode.js';
export {
  filterServers,
  parseWeight,
  parseCoordinate,
  MAX_WEIGHT,
  type FilterOptions,
} from './metadata.js';
export { fnv1a64, jumpHash } from './hash.js';
export { defaultHashKey, stableStringify } from './hash-key.js';
