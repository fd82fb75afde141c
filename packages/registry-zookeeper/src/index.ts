/**
 * @packageDocumentation
 * ZooKeeper registry for `@rpcx`, interoperable with Go rpcx's `rpcxio/rpcx-zookeeper`
 * (libkv layout): a server register plugin that keeps an ephemeral znode
 * `/<basePath>/<service>/<network@address>` holding the metadata, and a client discovery
 * that lists and watches the children of `/<basePath>/<service>` and their data.
 *
 * @module @rpcx/registry-zookeeper
 */
export { zookeeperRegisterPlugin, ZooKeeperRegisterPlugin, type ZooKeeperRegisterPluginOptions } from './register-plugin.js';
export { zookeeperDiscovery, ZooKeeperDiscovery, type ZooKeeperDiscoveryOptions } from './discovery.js';
export { ZooKeeperError, type ZooKeeperConnectionOptions } from './session.js';
export { DEFAULT_NETWORKS, RegistryKeyNotFoundError } from '@rpcx/registry-kit';
