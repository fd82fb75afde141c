import { RpcxError } from '@rpcx/core';

/**
 * Thrown by a discovery's first `getServices()` when the service has no key at all (Go
 * libkv's `ErrKeyNotFound`, whose text this keeps). Registries whose Go client tolerates a
 * missing service (Consul, mDNS) never throw it.
 */
export class RegistryKeyNotFoundError extends RpcxError {
  constructor(key: string) {
    super(`Key not found in store: ${key}`, 'RPCX_ERR_REGISTRY_KEY_NOT_FOUND');
  }
}
