// The compliance suite against the in-memory reference registry: the suite's own check that
// a correct registry built on the kit's base classes passes it.
import { registryCompliance } from '../src/testing/index.js';
import { MemoryDiscovery, MemoryRegisterPlugin, MemoryStore } from './memory-registry.js';

const store = new MemoryStore();

registryCompliance({
  name: 'memory',
  plugin: (init) => new MemoryRegisterPlugin({ store, ...init }),
  discovery: (init) => new MemoryDiscovery({ store, ...init }),
  writeRaw: async ({ basePath, servicePath, entries }) => {
    for (const { key, value } of entries) await store.put(`${basePath}/${servicePath}/${key}`, value);
  },
  watchTimeoutMs: 1000,
  refreshIntervalMs: 100,
});
