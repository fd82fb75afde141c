// The directory registry against @rpcx/registry-kit's compliance suite, the same suite the
// etcd, ZooKeeper, Consul, Redis and mDNS registries pass. Run with `node --test`.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodeTest from 'node:test';
import { nodeTestRunner, registryCompliance } from '@rpcx/registry-kit/testing';
import { directoryDiscovery, directoryRegisterPlugin } from '../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'rpcx-directory-compliance-'));
nodeTest.after(() => rm(dir, { recursive: true, force: true }));

registryCompliance({
  name: 'directory',
  runner: nodeTestRunner(nodeTest),
  plugin: ({ basePath, serviceAddress, logger, updateIntervalMs }) =>
    directoryRegisterPlugin({ dir, basePath, serviceAddress, logger, updateIntervalMs: updateIntervalMs ?? 0 }),
  discovery: ({ basePath, servicePath, logger }) => directoryDiscovery({ dir, basePath, servicePath, logger, pollMs: 100 }),
  writeRaw: async ({ basePath, servicePath, entries }) => {
    const service = join(dir, basePath, servicePath);
    await mkdir(service, { recursive: true });
    for (const { key, value } of entries) await writeFile(join(service, encodeURIComponent(key)), value);
  },
});
