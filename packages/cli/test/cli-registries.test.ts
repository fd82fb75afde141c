// `rpcx list` and `rpcx call` through Consul, Redis and mDNS (etcd and ZooKeeper are in
// cli.test.ts): a real Consul agent and redis-server on loopback, each holding a TS server
// registered by our plugin and a Go rpcx server registered by Go's plugin; mDNS inside a
// private network namespace (namespace/cli-mdns-ns.ts).
import { fileURLToPath } from 'node:url';
import { consulRegisterPlugin } from '@rpcx/registry-consul';
import { redisRegisterPlugin } from '@rpcx/registry-redis';
import { runNodeTestFile, type NodeTestRun } from '@rpcx/registry-kit/testing';
import type { ServerPlugin } from '@rpcx/core';
import { buildRegpeer, startGoRegisteredServer, type GoRegisteredServer, type Registry } from '../../../interop/test/support/registry-peer.js';
import { startTsServer } from '../../../interop/test/support/services.js';
import { ConsulAgent } from '../../registry-consul/test/consul-agent.js';
import { RedisServer } from '../../registry-redis/test/redis-server.js';
import { CLI_MDNS_TESTS } from './namespace/names.js';
import { rpcx } from './rpcx-child.js';

const mul = '{"A":10,"B":20}';

describe.each([
  {
    registry: 'consul' as Registry,
    start: async () => {
      const agent = await ConsulAgent.start();
      return { endpoint: agent.address, destroy: () => agent.destroy() };
    },
    plugin: (endpoint: string, serviceAddress: string): ServerPlugin => consulRegisterPlugin({ address: endpoint, basePath: '/rpcx_cli', serviceAddress, updateIntervalMs: 1000 }),
  },
  {
    registry: 'redis' as Registry,
    start: async () => {
      const redis = await RedisServer.start();
      return { endpoint: redis.address, destroy: () => redis.destroy() };
    },
    plugin: (endpoint: string, serviceAddress: string): ServerPlugin => redisRegisterPlugin({ address: endpoint, basePath: '/rpcx_cli', serviceAddress, updateIntervalMs: 1000 }),
  },
])('rpcx with a $registry registry', ({ registry, start, plugin }) => {
  let server: { endpoint: string; destroy(): Promise<void> };
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  let go: GoRegisteredServer;

  beforeAll(async () => {
    buildRegpeer();
    server = await start();
    ts = await startTsServer();
    await ts.server.use(plugin(server.endpoint, ts.key));
    go = await startGoRegisteredServer({ registry, endpoint: server.endpoint, basePath: '/rpcx_cli' }, ['--service', 'ServiceUser']);
  }, 120_000);
  afterAll(async () => {
    await go?.stop();
    await ts?.server.shutdown({ timeoutMs: 2000 });
    await server?.destroy();
  });

  test('list every service and the servers of one; call through the registry', async () => {
    const url = `${registry}://${server.endpoint}/rpcx_cli`;
    const [all, table, one, called] = await Promise.all([
      rpcx(['list', url, '--json']),
      rpcx(['list', url]),
      rpcx(['list', url, 'ServiceUser', '--json']),
      rpcx(['call', url, 'Arith.Mul', mul]),
    ]);
    expect({ code: all.code, stderr: all.stderr }).toEqual({ code: 0, stderr: '' });
    // Our server's services (each with its metadata, empty here) and Go's one.
    const listed = JSON.parse(all.stdout) as Record<string, { server: string; metadata: string }[]>;
    expect(Object.keys(listed)).toEqual(['Arith', 'Echo', 'Int64', 'PB', 'ServiceUser', 'ServiceUserFn', 'Thrift']);
    expect(listed.Arith).toEqual([{ server: ts.key, metadata: expect.any(String) }]);
    expect(listed.ServiceUser.map((e) => e.server).sort()).toEqual([go.key, ts.key].sort());
    expect(table.stdout.split('\n')[0].trim().split(/ +/)).toEqual(['SERVICE', 'SERVER', 'METADATA']);
    expect(table.stdout).toContain(go.key);
    expect(JSON.parse(one.stdout).ServiceUser.map((e: { server: string }) => e.server).sort()).toEqual([go.key, ts.key].sort());
    expect([called.code, JSON.parse(called.stdout)]).toEqual([0, { C: 200 }]);
  });

  test('a registry that is not there: exit 1 and a clear message, in bounded time', async () => {
    const r = await rpcx(['list', `${registry}://127.0.0.1:1/rpcx_cli`, '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^rpcx list: ${registry}://127\\.0\\.0\\.1:1/rpcx_cli: `));
    expect(r.ms).toBeLessThan(8000);
  });
});

describe('rpcx with mDNS (in a private network namespace)', () => {
  let run: NodeTestRun;
  beforeAll(async () => {
    run = await runNodeTestFile(fileURLToPath(new URL('./namespace/cli-mdns-ns.ts', import.meta.url)), {
      wrap: (command) => ['unshare', '-n', 'sh', '-c', 'ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"', 'cli-mdns', ...command],
      timeoutMs: 90_000,
    });
  }, 100_000);

  test.each([...CLI_MDNS_TESTS])('%s', (name) => {
    const result = run.results.find((r) => r.name === name && !r.suite);
    expect({ name, ok: result?.ok, error: result ? result.error : run.output.slice(-4000) }).toEqual({ name, ok: true, error: undefined });
  });
});
