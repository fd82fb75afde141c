// Consul registry interop with Go rpcx: rpcxio/rpcx-consul v0.1.1 (ConsulRegisterPlugin,
// NewConsulDiscovery; libkv v0.5.1's Consul store) on rpcx v1.9.4 against
// @rpcx/registry-consul, in a real Consul v1.14.11 agent started here.
import { consulDiscovery, consulRegisterPlugin } from '@rpcx/registry-consul';
import { ConsulAgent } from '../../packages/registry-consul/test/consul-agent.js';
import { keysOf, startGoRegisteredServer, waitForList } from './support/registry-peer.js';
import { registryInteropSuite } from './support/registry-suite.js';

registryInteropSuite(
  {
    registry: 'consul',
    async start() {
      const agent = await ConsulAgent.start();
      return { endpoint: agent.address, destroy: () => agent.destroy() };
    },
    discovery: (endpoint, basePath) => consulDiscovery({ address: endpoint, basePath, servicePath: 'Arith', waitTimeMs: 5000 }),
    // A node TTL of 2 s (session TTL 1 s, the agent's minimum here), as the Go peer's.
    plugin: (endpoint, basePath, serviceAddress) => consulRegisterPlugin({ address: endpoint, basePath, serviceAddress, updateIntervalMs: 1000 }),
    longTtlServeArgs: ['--update-interval', '20s'],
  },
  (ctx) => {
    test("a SIGKILLed Go server leaves once its session lapses (Go's node TTL: 2 × UpdateInterval)", async () => {
      const basePath = '/rpcx_interop_consul_kill';
      const go = await startGoRegisteredServer({ registry: 'consul', endpoint: ctx.endpoint(), basePath }, ['--metadata', 'weight=5']);
      ctx.defer(() => go.stop());
      const d = consulDiscovery({ address: ctx.endpoint(), basePath, servicePath: 'Arith', waitTimeMs: 5000 });
      ctx.defer(() => d.close());
      const [entry] = await waitForList(d, (es) => es.length === 1, 10_000, 'the Go node');
      expect(entry.key).toBe(go.key);
      expect(new URLSearchParams(entry.value).get('weight')).toBe('5');

      process.kill(go.pid, 'SIGKILL');
      const killedAt = Date.now();
      // UpdateInterval 1 s: TTL 2 s, session TTL "1s", which Consul invalidates 2 × TTL after
      // the last renewal (Go renews at each tick), plus the agent's timer slack.
      expect(keysOf(await waitForList(d, (es) => es.length === 0, 10_000, 'the Go node to lapse'))).toEqual([]);
      const goneMs = Date.now() - killedAt;
      expect(goneMs).toBeGreaterThan(500);
      expect(goneMs).toBeLessThan(6000);
    });
  },
);
