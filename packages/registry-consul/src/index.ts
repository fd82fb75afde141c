/**
 * @packageDocumentation
 * Consul registry for `@rpcx`, with the KV layout of Go rpcx's `rpcxio/rpcx-consul` (libkv's
 * Consul store): a server register plugin that writes `<basePath>/<service>/<network@address>`
 * = metadata, held by a `Behavior: delete` session when it has a TTL, and a client discovery
 * that lists `<basePath>/<service>/` and follows it with blocking queries.
 *
 * @module @rpcx/registry-consul
 */
export { consulRegisterPlugin, ConsulRegisterPlugin, sessionTtl, type ConsulRegisterPluginOptions } from './register-plugin.js';
export { consulDiscovery, ConsulDiscovery, type ConsulDiscoveryOptions } from './discovery.js';
export { LOCK_FLAG_VALUE, formatGoDuration, type ConsulConnectionOptions } from './client.js';
export { DEFAULT_NETWORKS } from '@rpcx/registry-kit';
