/**
 * @packageDocumentation
 * Redis registry for `@rpcx`, interoperable with Go rpcx's in-tree Redis registry
 * (`serverplugin.RedisRegisterPlugin` / `client.NewRedisDiscovery`, on rpcxio/libkv's Redis
 * store): a server register plugin that stores `/<basePath>/<service>/<network@address>` =
 * libkv's JSON envelope of the metadata with a TTL of twice the refresh interval, and a client
 * discovery that lists that prefix with `SCAN` and follows it through keyspace notifications.
 * Built on ioredis.
 *
 * @module @rpcx/registry-redis
 */
export { redisRegisterPlugin, RedisRegisterPlugin, type RedisRegisterPluginOptions } from './register-plugin.js';
export { redisDiscovery, RedisDiscovery, type RedisDiscoveryOptions } from './discovery.js';
export type { RedisConnectionOptions } from './connection.js';
export { normalize, encodeEnvelope, decodeEnvelope } from './layout.js';
export { DEFAULT_NETWORKS, RegistryKeyNotFoundError } from '@rpcx/registry-kit';
