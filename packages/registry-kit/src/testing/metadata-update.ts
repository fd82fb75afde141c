/**
 * The compliance tests of `ServiceDiscovery.updateMetadata`, for registries that implement it
 * (etcd, ZooKeeper, Consul). A package runs them with the setup it gives `registryCompliance`
 * plus `nodeOwner`:
 *
 * ```ts
 * const setup = { name: 'etcd', plugin, discovery, writeRaw };
 * registryCompliance(setup);
 * metadataUpdateCompliance({ ...setup, nodeOwner: async ({ basePath, servicePath, serverKey }) => … });
 * ```
 */
import assert from 'node:assert/strict';
import { RegistryKeyNotFoundError, type ServiceDiscovery } from '@rpcx/core';
import { globalRunner } from '@rpcx/core/testing';
import type { CompliancePlugin, RegistryComplianceSetup } from './compliance.js';
import { nextList, recordingLogger } from './helpers.js';

export interface MetadataUpdateSetup extends RegistryComplianceSetup {
  /**
   * What ties a node to its server's life (etcd lease ID, ZooKeeper `ephemeralOwner`,
   * Consul session ID), read straight from the backend; the tests check an update keeps it.
   */
  nodeOwner(node: { basePath: string; servicePath: string; serverKey: string }): Promise<string>;
}

export const METADATA_UPDATE_TESTS = [
  'updateMetadata sets and deletes keys, keeps the rest and the node owner; watchers see it',
  "updateMetadata survives the register plugin's refresh",
  'updateMetadata of a node that does not exist rejects and creates nothing',
] as const;

let runs = 0;

/** The value without the `calls`/`connections` rates a refresh may have added meanwhile. */
const withoutRates = (value: string) =>
  value
    .split('&')
    .filter((pair) => !/^(calls|connections)=/.test(pair))
    .join('&');

/** Declare the `updateMetadata` tests for one registry (one `describe` block). */
export function metadataUpdateCompliance(setup: MetadataUpdateSetup): void {
  const runner = setup.runner ?? globalRunner('metadataUpdateCompliance');
  const watchMs = setup.watchTimeoutMs ?? 3000;
  const refreshMs = setup.refreshIntervalMs ?? 300;
  const run = `${Date.now().toString(36)}${(runs++).toString(36)}`;
  let n = 0;
  const basePath = () => `/rpcx_update_${run}_${++n}`;
  let port = 21_000;
  const address = () => `tcp@127.0.0.1:${++port}`;

  const it = (name: (typeof METADATA_UPDATE_TESTS)[number], body: (own: <T extends { stop?(): unknown; close?(): unknown }>(x: T) => T) => Promise<void>) =>
    runner.test(
      name,
      async () => {
        const owned: { stop?(): unknown; close?(): unknown }[] = [];
        try {
          await body((x) => (owned.push(x), x));
        } finally {
          for (const x of owned.reverse()) await Promise.resolve(x.stop?.() ?? x.close?.()).catch(() => undefined);
        }
      },
      setup.testTimeoutMs ?? 30_000,
    );

  const logger = recordingLogger();
  const updatable = (d: ServiceDiscovery) => {
    assert.ok(d.updateMetadata, 'the discovery has updateMetadata');
    return d as ServiceDiscovery & Required<Pick<ServiceDiscovery, 'updateMetadata'>>;
  };

  runner.describe(`registry compliance: ${setup.name} updateMetadata`, () => {
    it(METADATA_UPDATE_TESTS[0], async (own) => {
      const base = basePath();
      const [a, b] = [address(), address()].sort();
      await own(setup.plugin({ basePath: base, serviceAddress: a, logger })).register('Arith', {}, 'weight=10&group=g1&state=active');
      await own(setup.plugin({ basePath: base, serviceAddress: b, logger })).register('Arith', {}, 'weight=1');
      const d = updatable(own(setup.discovery({ basePath: base, servicePath: 'Arith', logger })));
      await d.getServices();
      const ownerBefore = await setup.nodeOwner({ basePath: base, servicePath: 'Arith', serverKey: a });
      assert.ok(ownerBefore, 'the node has an owner (lease, session)');

      // The discovery's first watch may take a while to connect on a loaded machine.
      const seen = nextList(d, (l) => l.some((e) => e.value.includes('inactive')), 2 * watchMs);
      const written = await d.updateMetadata('Arith', a, { state: 'inactive', weight: '5', group: null });
      // url.Values.Encode: keys sorted. (A backend whose plugin refreshes on its own may have
      // added rates by now; they are left out of the comparisons.)
      assert.equal(withoutRates(written), 'state=inactive&weight=5');
      assert.deepEqual(
        (await seen).map((e) => ({ key: e.key, value: withoutRates(e.value) })),
        [
          { key: a, value: 'state=inactive&weight=5' },
          { key: b, value: 'weight=1' },
        ],
      );
      assert.equal(await setup.nodeOwner({ basePath: base, servicePath: 'Arith', serverKey: a }), ownerBefore);

      // A discovery of another service (or none) updates any service under the base path.
      const other = updatable(own(setup.discovery({ basePath: base, servicePath: 'Other', logger })));
      const reactivated = nextList(d, (l) => withoutRates(l[0].value) === 'state=active&weight=5', watchMs);
      assert.equal(withoutRates(await other.updateMetadata('Arith', a, { state: 'active' })), 'state=active&weight=5');
      await reactivated;
    });

    it(METADATA_UPDATE_TESTS[1], async (own) => {
      const base = basePath();
      const a = address();
      const p: CompliancePlugin = own(setup.plugin({ basePath: base, serviceAddress: a, logger, updateIntervalMs: refreshMs }));
      await p.register('Arith', {}, 'weight=10');
      p.preCall({} as never, 'Arith', 'Mul', {});
      const d = updatable(own(setup.discovery({ basePath: base, servicePath: 'Arith', logger })));
      const rates = (value: string) => /(?:^|&)calls=/.test(value);
      // Right after a refresh, so that none is reading the node while it is updated.
      await nextList(d, (l) => l.length === 1 && rates(l[0].value), watchMs + 2 * refreshMs);
      let last = await d.updateMetadata('Arith', a, { state: 'inactive' });
      // Two refreshes later (new rates each time) the state is still there.
      let refreshes = 0;
      const [after] = await nextList(
        d,
        ([entry]) => {
          const value = entry?.value ?? '';
          if (!/(?:^|&)state=inactive(?:&|$)/.test(value)) return true; // lost: stop and fail below
          if (value !== last && rates(value)) refreshes++;
          last = value;
          return refreshes >= 2;
        },
        watchMs + 4 * refreshMs,
      );
      assert.match(after.value, /(?:^|&)state=inactive(?:&|$)/);
      assert.match(after.value, /(?:^|&)calls=\d+\.\d\d(?:&|$)/);
    });

    it(METADATA_UPDATE_TESTS[2], async (own) => {
      const base = basePath();
      const a = address();
      await own(setup.plugin({ basePath: base, serviceAddress: a, logger })).register('Arith', {}, 'weight=1');
      const d = updatable(own(setup.discovery({ basePath: base, servicePath: 'Arith', logger })));
      const missing = address();
      await assert.rejects(d.updateMetadata('Arith', missing, { state: 'inactive' }), RegistryKeyNotFoundError);
      await assert.rejects(d.updateMetadata('Nope', a, { state: 'inactive' }), RegistryKeyNotFoundError);
      const listed = await d.listAll!();
      assert.deepEqual(
        listed.map((s) => ({ servicePath: s.servicePath, servers: s.servers.map((e) => ({ key: e.key, value: withoutRates(e.value) })) })),
        [{ servicePath: 'Arith', servers: [{ key: a, value: 'weight=1' }] }],
      );
    });
  });
}
