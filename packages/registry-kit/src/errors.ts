/**
 * Thrown by a discovery's first `getServices()` when the service has no key at all (Go
 * libkv's `ErrKeyNotFound`, whose text this keeps). Registries whose Go client tolerates a
 * missing service (Consul, mDNS) never throw it. Defined in @rpcx/core's catalogue.
 */
export { RegistryKeyNotFoundError } from '@rpcx/core';
