export { callCounter, type CallCounter } from './plugin.js';
export { requestId, requireRequestId, concurrencyLimit } from './interceptors.js';
export { canonicalJsonCodec, CANONICAL_JSON } from './codec.js';
export { pipeTransport, type PipeTransportOptions } from './transport.js';
export {
  directoryRegisterPlugin,
  directoryDiscovery,
  DirectoryRegisterPlugin,
  DirectoryDiscovery,
  type DirectoryRegistryOptions,
  type DirectoryRegisterOptions,
  type DirectoryDiscoveryOptions,
} from './registry.js';
