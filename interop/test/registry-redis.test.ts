// Redis registry interop with Go rpcx: rpcx v1.7.5's in-tree RedisRegisterPlugin and
// NewRedisDiscovery (libkv v0.5.1's Redis store, go-redis v8) against @rpcx/registry-redis,
// in a real redis-server started here.
import { redisDiscovery, redisRegisterPlugin } from '@rpcx/registry-redis';
import { RedisServer, redisCommand } from '../../packages/registry-redis/test/redis-server.js';
import { keysOf, startGoRegisteredServer, waitForList } from './support/registry-peer.js';
import { registryInteropSuite } from './support/registry-suite.js';

let redis: RedisServer | undefined;

registryInteropSuite(
  {
    registry: 'redis',
    async start() {
      redis = await RedisServer.start();
      return { endpoint: redis.address, destroy: () => redis!.destroy() };
    },
    discovery: (endpoint, basePath) => redisDiscovery({ address: endpoint, basePath, servicePath: 'Arith', allowKeyNotFound: true }),
    plugin: (endpoint, basePath, serviceAddress) => redisRegisterPlugin({ address: endpoint, basePath, serviceAddress, updateIntervalMs: 1000 }),
    longTtlServeArgs: ['--update-interval', '20s'],
  },
  (ctx) => {
    test("Go's keys are libkv's: '//base/Arith/<addr>' with a 2 × UpdateInterval TTL; a SIGKILLed Go server expires", async () => {
      const basePath = '/rpcx_interop_redis_layout';
      const go = await startGoRegisteredServer({ registry: 'redis', endpoint: ctx.endpoint(), basePath }, ['--metadata', 'weight=5']);
      ctx.defer(() => go.stop());
      // The node exists as soon as Register returned, before LISTENING (allowKeyNotFound false, as Go).
      const d = redisDiscovery({ address: ctx.endpoint(), basePath, servicePath: 'Arith' });
      ctx.defer(() => d.close());
      const [entry] = await d.getServices();
      expect(entry.key).toBe(go.key);
      expect(new URLSearchParams(entry.value).get('weight')).toBe('5');
      const node = `/${basePath}/Arith/${go.key}`;
      const ttl = Number(/^:(-?\d+)/.exec(await redisCommand(redis!.port, 'PTTL', node))?.[1]);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2000);
      expect(await redisCommand(redis!.port, 'PTTL', `/${basePath}/Arith`)).toBe(':-1\r\n');

      process.kill(go.pid, 'SIGKILL');
      const killedAt = Date.now();
      expect(keysOf(await waitForList(d, (es) => es.length === 0, 6000, 'the Go node to expire'))).toEqual([]);
      expect(Date.now() - killedAt).toBeLessThan(3000);
    });
  },
);
