// etcd registry interop with Go rpcx: rpcxio/rpcx-etcd v0.5.0 (EtcdV3RegisterPlugin,
// NewEtcdV3Discovery) on rpcx v1.9.4 against @rpcx/registry-etcd, in a real etcd started here.
import { etcdDiscovery, etcdRegisterPlugin } from '@rpcx/registry-etcd';
import { EtcdServer } from '../../packages/registry-etcd/test/etcd-server.js';
import { startGoRegisteredServer, waitForList } from './support/registry-peer.js';
import { registryInteropSuite } from './support/registry-suite.js';

let etcd: EtcdServer | undefined;

registryInteropSuite(
  {
    registry: 'etcd',
    async start() {
      etcd = await EtcdServer.start();
      return { endpoint: etcd.endpoint, destroy: () => etcd!.destroy() };
    },
    discovery: (endpoint, basePath) => etcdDiscovery({ endpoints: [endpoint], basePath, servicePath: 'Arith', allowKeyNotFound: true }),
    plugin: (endpoint, basePath, serviceAddress) => etcdRegisterPlugin({ endpoints: [endpoint], basePath, serviceAddress }),
  },
  (ctx) => {
    test("Go's plugin writes its first service at the first UpdateInterval tick, then deletes it on SIGTERM", async () => {
      const basePath = '/rpcx_interop_etcd_tick';
      const f = { registry: 'etcd' as const, endpoint: ctx.endpoint(), basePath };
      const keys = () => etcd!.etcdctl('get', '--prefix', '--keys-only', basePath).split('\n').filter(Boolean);
      const go = await startGoRegisteredServer(f, ['--update-interval', '3s', '--metadata', 'weight=5']);
      ctx.defer(() => go.stop());
      // Register ran before LISTENING, but only Start's base key is there: rpcx-etcd's
      // Register puts the paths recorded by the previous call, then records its own.
      expect(keys()).toEqual([basePath]);
      const d = etcdDiscovery({ endpoints: [ctx.endpoint()], basePath, servicePath: 'Arith', allowKeyNotFound: true });
      ctx.defer(() => d.close());
      const started = Date.now();
      const [entry] = await waitForList(d, (es) => es.length === 1, 8000, 'the Go node');
      expect(entry.key).toBe(go.key);
      expect(entry.value).toBe('weight=5');
      expect(Date.now() - started).toBeGreaterThan(1500);
      // The tick puts only the node; the <basePath>/Arith key comes with Unregister.
      expect(keys()).toEqual([basePath, `${basePath}/Arith/${go.key}`]);

      expect(await go.stop()).toBe(0);
      expect(keys()).toEqual([basePath, `${basePath}/Arith`]);
      expect(await waitForList(d, (es) => es.length === 0, 5000, 'the node to leave')).toEqual([]);
    });
  },
);
