// The registry interop scenarios, run by registry-{etcd,zookeeper,consul,redis}.test.ts against
// a real etcd / ZooKeeper / Consul / Redis: Go plugin ↔ our discovery, our plugin ↔ Go discovery, and
// Go and TS servers side by side behind Failover + RoundRobin in both clients.
import type { ServerPlugin, ServiceDiscovery } from '@rpcx/core';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, SelectMode, XClient, selectorFor } from '@rpcx/xclient';
import {
  buildRegpeer,
  keysOf,
  runGoRegistryClient,
  startGoRegisteredServer,
  waitForList,
  type GoRegisteredServer,
  type Registry,
  type RegistryFlags,
} from './registry-peer.js';
import { allCodecs, startTsServer } from './services.js';

export interface RegistryUnderTest {
  registry: Registry;
  /** Start a throwaway registry server on loopback. */
  start(): Promise<{ endpoint: string; destroy(): Promise<void> }>;
  /** Our discovery of `Arith` under `basePath`. */
  discovery(endpoint: string, basePath: string): ServiceDiscovery;
  /** Our register plugin for a server at `serviceAddress`. */
  plugin(endpoint: string, basePath: string, serviceAddress: string): ServerPlugin;
  /**
   * `regpeer serve` flags for (d), where a SIGKILLed Go server must stay registered for the
   * whole test: a registry whose node TTL follows the update interval (Consul, Redis) needs a
   * longer one than the default 1 s. Default: none.
   */
  longTtlServeArgs?: string[];
}

export interface SuiteContext {
  endpoint(): string;
  /** Registered cleanups run after each test, last first. */
  defer(fn: () => unknown): void;
}

/** Calls Mul(i, 7) for i = 1..n through `client`; returns the `__ServerAddress` of each reply. */
async function callMany(client: XClient, n: number): Promise<string[]> {
  const servers: string[] = [];
  for (let i = 1; i <= n; i++) {
    const responseMetadata: Record<string, string> = {};
    const reply = await client.call<{ C: number }>('Mul', { A: i, B: 7 }, { responseMetadata, timeoutMs: 5000 });
    expect(reply).toEqual({ C: 7 * i });
    servers.push(responseMetadata.__ServerAddress);
  }
  return servers;
}

/** The flags of a registry with a server (every one here; mDNS has its own test). */
type ServerFlags = RegistryFlags & { endpoint: string };

const count = (items: string[]) => items.reduce<Record<string, number>>((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});

/**
 * Defines the shared tests; `extra` adds registry-specific ones with the same registry
 * server and clean-up list.
 */
export function registryInteropSuite(r: RegistryUnderTest, extra?: (ctx: SuiteContext) => void): void {
  let registry: { endpoint: string; destroy(): Promise<void> } | undefined;
  const cleanups: (() => unknown)[] = [];
  let n = 0;
  const ctx: SuiteContext = {
    endpoint: () => registry!.endpoint,
    defer: (fn) => void cleanups.push(fn),
  };
  /** A base path of its own for each test: no test sees another's leftovers. */
  const flagsFor = (): ServerFlags => ({ registry: r.registry, endpoint: ctx.endpoint(), basePath: `/rpcx_interop_${r.registry}_${++n}` });

  const goServer = async (f: RegistryFlags, extraArgs: string[] = []): Promise<GoRegisteredServer> => {
    const go = await startGoRegisteredServer(f, extraArgs);
    ctx.defer(() => go.stop());
    return go;
  };
  const tsServer = async (f: ServerFlags) => {
    const ts = await startTsServer();
    ctx.defer(() => ts.server.shutdown({ timeoutMs: 2000 }));
    await ts.server.use(r.plugin(f.endpoint, f.basePath, ts.key));
    return ts;
  };
  const discovery = (f: ServerFlags) => {
    const d = r.discovery(f.endpoint, f.basePath);
    ctx.defer(() => d.close());
    return d;
  };
  const xclient = (d: ServiceDiscovery) => {
    const c = new XClient({
      servicePath: 'Arith',
      discovery: d,
      failMode: FailMode.Failover,
      selector: () => selectorFor(SelectMode.RoundRobin),
      transports: [tcpTransport()],
      codecs: allCodecs(),
    });
    ctx.defer(() => c.close());
    return c;
  };

  describe(`${r.registry} registry ↔ Go rpcx`, () => {
    beforeAll(async () => {
      buildRegpeer();
      registry = await r.start();
    }, 600_000);

    afterEach(async () => {
      for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
    });

    afterAll(async () => {
      await registry?.destroy();
    });

    test('(a) Go server registered by the Go plugin → found and called by our XClient', async () => {
      const f = flagsFor();
      const go = await goServer(f, ['--metadata', 'weight=7']);
      const d = discovery(f);
      const entries = await waitForList(d, (es) => es.some((e) => e.key === go.key), 10_000, `${go.key} in our discovery`);
      expect(keysOf(entries)).toEqual([go.key]);
      // Go's metrics refresh may have added calls/connections by now, keys sorted.
      expect(new URLSearchParams(entries[0].value).get('weight')).toBe('7');

      const servers = await callMany(xclient(d), 6);
      expect(servers).toEqual(Array(6).fill(go.key));

      // SIGTERM: Server.Shutdown unregisters through the Go plugin; our watch sees it go.
      expect(await go.stop()).toBe(0);
      await waitForList(d, (es) => !es.some((e) => e.key === go.key), 10_000, `${go.key} to leave`);
    });

    test('(b) TS server registered by our plugin → found and called by the Go client', async () => {
      const f = flagsFor();
      const ts = await tsServer(f);
      const res = await runGoRegistryClient(f, 6);
      expect(res.error).toBeUndefined();
      expect(res.ok).toBe(true);
      expect(res.discovered).toEqual([{ key: ts.key, value: '' }]);
      expect(res.servers).toEqual([ts.key]);
      expect(res.results.map((c) => c.c)).toEqual([7, 14, 21, 28, 35, 42]);
    });

    test('(c) one Go and one TS server: both clients, Failover + RoundRobin, see and call both', async () => {
      const f = flagsFor();
      const go = await goServer(f);
      const ts = await tsServer(f);
      const both = [go.key, ts.key].sort();
      const d = discovery(f);
      await waitForList(d, (es) => keysOf(es).join() === both.join(), 10_000, 'both servers in our discovery');

      const tsSeen = count(await callMany(xclient(d), 8));
      expect(Object.keys(tsSeen).sort()).toEqual(both);
      // Round robin over two servers: 4 each, unless a list update (Go rewrites its node with
      // fresh rates every second) restarted the rotation in between.
      for (const key of both) expect(tsSeen[key]).toBeGreaterThanOrEqual(2);

      const res = await runGoRegistryClient(f, 8, 2);
      expect(res.error).toBeUndefined();
      expect(res.ok).toBe(true);
      expect(res.discovered.map((p) => p.key)).toEqual(both);
      expect(res.servers).toEqual(both);
      for (const key of both) expect(res.perServer[key]).toBeGreaterThanOrEqual(2);
      expect(res.results.map((c) => c.c)).toEqual([7, 14, 21, 28, 35, 42, 49, 56]);
    });

    test('(d) Failover: a Go server killed with SIGKILL stays registered; both clients fail over to the TS server', async () => {
      const f = flagsFor();
      const go = await goServer(f, r.longTtlServeArgs);
      const ts = await tsServer(f);
      const both = [go.key, ts.key].sort();
      const d = discovery(f);
      await waitForList(d, (es) => keysOf(es).join() === both.join(), 10_000, 'both servers in our discovery');
      const client = xclient(d);
      await callMany(client, 2);

      // No unregistration: the entry outlives the process (etcd lease 30 s, ZooKeeper session
      // 10 s, Consul and Redis 2 × the update interval).
      process.kill(go.pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(keysOf(await d.getServices())).toEqual(both);

      expect(await callMany(client, 6)).toEqual(Array(6).fill(ts.key));

      const res = await runGoRegistryClient(f, 6, 2);
      expect(res.error).toBeUndefined();
      expect(res.ok).toBe(true);
      expect(res.discovered.map((p) => p.key)).toEqual(both);
      expect(res.servers).toEqual([ts.key]);
      // RoundRobin picked the dead server for some calls; Failover re-selected the live one.
      expect(res.results.some((c) => c.picks.length === 2 && c.picks[0] === go.key && c.picks[1] === ts.key)).toBe(true);
    });

    extra?.(ctx);
  });
}
