/**
 * @packageDocumentation
 * etcd v3 registry for `@rpcx`, interoperable with Go rpcx's `rpcxio/rpcx-etcd`
 * (`EtcdV3RegisterPlugin` / `NewEtcdV3Discovery`): a server register plugin that publishes
 * `<basePath>/<service>/<network@address>` = metadata under a kept-alive lease, and a
 * client discovery that lists and watches `<basePath>/<service>/`.
 *
 * @module @rpcx/registry-etcd
 */
export { etcdRegisterPlugin, EtcdRegisterPlugin, type EtcdRegisterPluginOptions } from './register-plugin.js';
export { etcdDiscovery, EtcdDiscovery, type EtcdDiscoveryOptions } from './discovery.js';
export type { EtcdConnectionOptions } from './client.js';
export { DEFAULT_NETWORKS, RegistryKeyNotFoundError } from '@rpcx/registry-kit';
