/**
 * The registry compliance suite: the behaviours every `@rpcx` registry (register plugin +
 * discovery) must show against a live backend. A registry package runs it in a few lines:
 *
 * ```ts
 * registryCompliance({
 *   name: 'etcd',
 *   plugin: ({ basePath, serviceAddress, logger, updateIntervalMs }) => etcdRegisterPlugin({ … }),
 *   discovery: ({ basePath, servicePath, logger }) => etcdDiscovery({ … }),
 *   writeRaw: async ({ basePath, servicePath, entries }) => { … },
 * });
 * ```
 *
 * Assertions use `node:assert/strict`, so the suite runs under jest, vitest, mocha or
 * `node:test` (see `nodeTestRunner`); it needs only `describe` and `test`.
 */
import assert from 'node:assert/strict';
import type { Logger, RegisteredService, ServerPlugin, ServiceDiscovery, ServiceEntry, Startable } from '@rpcx/core';
import { globalRunner, type TestRunner } from '@rpcx/core/testing';
import { keys, nextList, recordingLogger, waitForValue } from './helpers.js';

/** A register plugin as the suite drives it: the server hooks it needs, plus start/stop. */
export type CompliancePlugin = ServerPlugin &
  Startable &
  Required<Pick<ServerPlugin, 'register' | 'unregister' | 'registerFunction' | 'connAccept' | 'preCall'>>;

export interface CompliancePluginInit {
  /** A base path of this test's own. */
  basePath: string;
  /** `tcp@127.0.0.1:<port>`; nothing listens there, the suite only registers it. */
  serviceAddress: string;
  logger: Logger;
  /**
   * Set only by the metrics test. Otherwise the factory picks whatever suits the backend
   * (the refresh is not under test there).
   */
  updateIntervalMs?: number;
}

export interface ComplianceDiscoveryInit {
  basePath: string;
  servicePath: string;
  logger: Logger;
}

export interface ComplianceRawWrite {
  basePath: string;
  servicePath: string;
  /** Server entries to store as a foreign (possibly broken) server would: key → stored bytes. */
  entries: { key: string; value: string | Uint8Array }[];
}

export interface RegistryComplianceSetup {
  /** Shown in the describe block, e.g. `etcd`. */
  name: string;
  /** A new register plugin. The suite stops it at the end of the test. */
  plugin(init: CompliancePluginInit): CompliancePlugin;
  /** A new discovery. The suite closes it at the end of the test. */
  discovery(init: ComplianceDiscoveryInit): ServiceDiscovery;
  /**
   * Store entries directly in the backend, bypassing the plugin (the garbage test). May
   * return a function that takes them away again (e.g. stops an announcement); the suite
   * calls it when the test ends.
   */
  writeRaw(write: ComplianceRawWrite): Promise<void | (() => Promise<unknown> | unknown)>;
  /** The backend can store values that are not UTF-8 (false for mDNS's JSON TXT). Default true. */
  binaryValues?: boolean;
  /** A fresh base path per test. Default `/rpcx_compliance_<run>_<n>`. */
  basePath?: () => string;
  /** How long a change may take to reach a watcher, in ms. Default 3000. */
  watchTimeoutMs?: number;
  /** The refresh period the metrics test asks for, in ms. Default 300. */
  refreshIntervalMs?: number;
  /** Timeout of each test, in ms. Default 30000. */
  testTimeoutMs?: number;
  /** Test framework functions. Default: the globals `describe` and `test` (jest, vitest). */
  runner?: TestRunner;
}

/** The suite's test names, in order, for runners that report on them from outside. */
export const REGISTRY_COMPLIANCE_TESTS = [
  'register: the server is listed with its metadata, per service',
  'unregister removes one entry, stop removes the rest',
  'a second server appears through watch',
  'garbage entries are skipped with one warning each, and watching goes on',
  'refresh writes calls and connections rates in Go format',
  'clone lists another service; closing it leaves the original working',
  'listAll: every service with its servers, sorted; bad entries skipped',
] as const;

let runs = 0;

/** Declare the compliance tests for one registry (one `describe` block). */
export function registryCompliance(setup: RegistryComplianceSetup): void {
  const runner = setup.runner ?? globalRunner('registryCompliance');
  const watchMs = setup.watchTimeoutMs ?? 3000;
  const refreshMs = setup.refreshIntervalMs ?? 300;
  const timeoutMs = setup.testTimeoutMs ?? 30_000;
  const run = `${Date.now().toString(36)}${(runs++).toString(36)}`;
  let n = 0;
  const basePath = setup.basePath ?? (() => `/rpcx_compliance_${run}_${++n}`);
  let port = 20_000;
  const address = () => `tcp@127.0.0.1:${++port}`;

  /** What one test made, stopped and closed when it ends (pass or fail). */
  class Scope {
    readonly logger = recordingLogger();
    private readonly cleanups: (() => Promise<unknown> | unknown)[] = [];

    plugin(init: Omit<CompliancePluginInit, 'logger'>): CompliancePlugin {
      const p = setup.plugin({ ...init, logger: this.logger });
      this.cleanups.push(() => p.stop());
      return p;
    }

    discovery(init: Omit<ComplianceDiscoveryInit, 'logger'>): ServiceDiscovery {
      const d = setup.discovery({ ...init, logger: this.logger });
      this.cleanups.push(() => d.close());
      return d;
    }

    onDispose(fn: () => Promise<unknown> | unknown): void {
      this.cleanups.push(fn);
    }

    async dispose(): Promise<void> {
      for (const fn of this.cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
    }
  }

  const it = (name: (typeof REGISTRY_COMPLIANCE_TESTS)[number], body: (scope: Scope) => Promise<void>) =>
    runner.test(
      name,
      async () => {
        const scope = new Scope();
        try {
          await body(scope);
        } finally {
          await scope.dispose();
        }
      },
      timeoutMs,
    );

  runner.describe(`registry compliance: ${setup.name}`, () => {
    it(REGISTRY_COMPLIANCE_TESTS[0], async (s) => {
      const base = basePath();
      const a = address();
      const p = s.plugin({ basePath: base, serviceAddress: a });
      await p.register('Arith', {}, 'weight=10&group=g1');
      await p.registerFunction('Echo', 'echo', () => undefined, 'x=1');
      assert.deepEqual(await s.discovery({ basePath: base, servicePath: 'Arith' }).getServices(), [
        { key: a, value: 'weight=10&group=g1' },
      ]);
      assert.deepEqual(await s.discovery({ basePath: base, servicePath: 'Echo' }).getServices(), [{ key: a, value: 'x=1' }]);
    });

    it(REGISTRY_COMPLIANCE_TESTS[1], async (s) => {
      const base = basePath();
      const [a, b] = [address(), address()];
      const pa = s.plugin({ basePath: base, serviceAddress: a });
      const pb = s.plugin({ basePath: base, serviceAddress: b });
      await pa.register('Arith', {}, '');
      await pb.register('Arith', {}, 'weight=3');
      await pb.register('Echo', {}, '');
      const d = s.discovery({ basePath: base, servicePath: 'Arith' });
      assert.deepEqual(keys(await d.getServices()), [a, b].sort());

      const afterUnregister = nextList(d, (l) => l.length === 1, watchMs);
      await pa.unregister('Arith');
      assert.deepEqual(await afterUnregister, [{ key: b, value: 'weight=3' }]);

      const echo = s.discovery({ basePath: base, servicePath: 'Echo' });
      assert.equal((await echo.getServices()).length, 1);
      const arithGone = nextList(d, (l) => l.length === 0, watchMs);
      const echoGone = nextList(echo, (l) => l.length === 0, watchMs);
      await pb.stop();
      assert.deepEqual(await arithGone, []);
      assert.deepEqual(await echoGone, []);
      assert.deepEqual(await d.getServices(), []);
    });

    it(REGISTRY_COMPLIANCE_TESTS[2], async (s) => {
      const base = basePath();
      const [a, b] = [address(), address()];
      await s.plugin({ basePath: base, serviceAddress: a }).register('Arith', {}, 'a=1');
      const d = s.discovery({ basePath: base, servicePath: 'Arith' });
      assert.deepEqual(await d.getServices(), [{ key: a, value: 'a=1' }]);
      const update = nextList(d, (l) => l.length === 2, watchMs);
      await s.plugin({ basePath: base, serviceAddress: b }).register('Arith', {}, 'a=2');
      const expected: ServiceEntry[] = [
        { key: a, value: 'a=1' },
        { key: b, value: 'a=2' },
      ].sort((x, y) => (x.key < y.key ? -1 : 1));
      assert.deepEqual(await update, expected);
      assert.deepEqual(await d.getServices(), expected);
    });

    it(REGISTRY_COMPLIANCE_TESTS[3], async (s) => {
      const base = basePath();
      const good = address();
      const bad: [string, string | Uint8Array][] = [
        ['tcp@not-an-address', 'weight=1'],
        ['pigeon@127.0.0.1:5002', 'weight=1'],
        ['tcp@127.0.0.1:5003', 'weight=%zz'],
      ];
      if (setup.binaryValues ?? true) bad.push(['tcp@127.0.0.1:5004', new Uint8Array([0xff, 0xfe, 0x00])]);
      const undo = await setup.writeRaw({
        basePath: base,
        servicePath: 'Arith',
        entries: [{ key: good, value: 'weight=1' }, ...bad.map(([key, value]) => ({ key, value }))],
      });
      if (undo) s.onDispose(undo);
      const d = s.discovery({ basePath: base, servicePath: 'Arith' });
      assert.deepEqual(await d.getServices(), [{ key: good, value: 'weight=1' }]);
      const warnedAbout = (key: string) => s.logger.warnings.filter((w) => w.includes(key)).length;
      for (const [key] of bad) assert.equal(warnedAbout(key), 1, `one warning about ${key}: ${JSON.stringify(s.logger.warnings)}`);

      // Still watching; the bad entries, still there, are not warned about again.
      const later = address();
      const update = nextList(d, (l) => l.length === 2, watchMs);
      await s.plugin({ basePath: base, serviceAddress: later }).register('Arith', {}, 'weight=2');
      assert.deepEqual(keys(await update), [good, later].sort());
      for (const [key] of bad) assert.equal(warnedAbout(key), 1, `still one warning about ${key}`);
    });

    it(REGISTRY_COMPLIANCE_TESTS[4], async (s) => {
      const base = basePath();
      const a = address();
      const p = s.plugin({ basePath: base, serviceAddress: a, updateIntervalMs: refreshMs });
      await p.register('Arith', {}, 'weight=10&group=g1');
      for (let i = 0; i < 3; i++) p.connAccept({} as never);
      for (let i = 0; i < 5; i++) assert.equal(await p.preCall({} as never, 'Arith', 'Mul', i), i);
      const d = s.discovery({ basePath: base, servicePath: 'Arith' });
      const rate = (value: string, name: string) => Number(new RegExp(`(?:^|&)${name}=([\\d.]+)`).exec(value)?.[1] ?? 0);
      // A tick may land before the events above were counted: wait for one after them.
      const [entry] = await nextList(
        d,
        (l) => l.length === 1 && rate(l[0].value, 'calls') > 0 && rate(l[0].value, 'connections') > 0,
        watchMs + 2 * refreshMs,
      );
      assert.equal(entry.key, a);
      // url.Values.Encode: keys sorted; go-metrics RateMean formatted %.2f.
      assert.match(entry.value, /^calls=\d+\.\d\d&connections=\d+\.\d\d&group=g1&weight=10$/);
    });

    it(REGISTRY_COMPLIANCE_TESTS[5], async (s) => {
      const base = basePath();
      const [a, b, c] = [address(), address(), address()];
      await s.plugin({ basePath: base, serviceAddress: a }).register('Arith', {}, '');
      await s.plugin({ basePath: base, serviceAddress: b }).register('Other', {}, 'o=1');
      const d = s.discovery({ basePath: base, servicePath: 'Arith' });
      assert.deepEqual(keys(await d.getServices()), [a]);
      const other = d.clone('Other');
      try {
        assert.deepEqual(await other.getServices(), [{ key: b, value: 'o=1' }]);
      } finally {
        await other.close();
      }
      const update = nextList(d, (l) => l.length === 2, watchMs);
      await s.plugin({ basePath: base, serviceAddress: c }).register('Arith', {}, '');
      assert.deepEqual(keys(await update), [a, c].sort());
    });

    it(REGISTRY_COMPLIANCE_TESTS[6], async (s) => {
      const base = basePath();
      const [a, b] = [address(), address()].sort();
      const pa = s.plugin({ basePath: base, serviceAddress: a });
      const pb = s.plugin({ basePath: base, serviceAddress: b });
      await pb.register('Zeta', {}, 'z=1');
      await pb.register('Arith', {}, 'weight=2');
      await pa.register('Arith', {}, 'weight=1');
      const undo = await setup.writeRaw({ basePath: base, servicePath: 'Arith', entries: [{ key: 'pigeon@127.0.0.1:5002', value: 'w=1' }] });
      if (undo) s.onDispose(undo);
      const d = s.discovery({ basePath: base, servicePath: 'Arith' });
      assert.ok(d.listAll, 'the discovery has listAll');
      const expected: RegisteredService[] = [
        { servicePath: 'Arith', servers: [{ key: a, value: 'weight=1' }, { key: b, value: 'weight=2' }] },
        { servicePath: 'Zeta', servers: [{ key: b, value: 'z=1' }] },
      ];
      // A registry that shows changes a moment later (mDNS) may need a second look.
      const listed = await waitForValue(() => d.listAll!(), (l) => JSON.stringify(l) === JSON.stringify(expected), watchMs);
      assert.deepEqual(listed, expected);
      assert.ok(s.logger.warnings.some((w) => w.includes('pigeon@127.0.0.1:5002')), `warned about the bad entry: ${JSON.stringify(s.logger.warnings)}`);
    });
  });
}
