/**
 * @packageDocumentation
 * Building blocks for `@rpcx` registry packages (etcd, ZooKeeper, Consul, mDNS, and yours):
 *
 * - `RegistryDiscovery`: list keeping, watcher fan-out, entry checks, the last-known list
 *   while the registry is unreachable, and `listAll()`; a backend only says how to list one
 *   service and every service, and what to watch.
 * - `RegistryRegisterPlugin`: the registered services, serialized writes, Go's UpdateInterval
 *   refresh with `calls`/`connections` rates, re-registering after a lost lease or session.
 * - Entry checks (`keyProblem`, `metadataProblem`, `DEFAULT_NETWORKS`), Go-format metrics
 *   (`formatRate` = `%.2f`, `withRates` = `url.ParseQuery` + `Set` + `Encode`) and Go's JSON
 *   string (`goJsonString`), for registries that store JSON.
 *
 * The registry compliance suite is in `@rpcx/registry-kit/testing`.
 *
 * @module @rpcx/registry-kit
 */
export { RegistryDiscovery, RETRY_MAX_MS, type RegistryDiscoveryOptions, type RawEntry, type VersionedEntry } from './discovery.js';
export { RegistryRegisterPlugin, type RegistryRegisterPluginOptions } from './register-plugin.js';
export { RegistryKeyNotFoundError } from './errors.js';
export { DEFAULT_NETWORKS, decodeUtf8, keyProblem, metadataProblem, sameEntries, servicesUnder, sortEntries } from './entries.js';
export { RateMeter, formatRate, withRates } from './metrics.js';
export { Backoff, sleep } from './util.js';
export { goJsonString } from './go-json.js';
