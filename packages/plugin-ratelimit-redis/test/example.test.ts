import { RedisServer } from '../../registry-redis/test/redis-server.js';
import { runExample } from './run-example.js';

test('examples/protection/redis-rate.ts: two servers share 3 calls per minute through a real Redis', async () => {
  const redis = await RedisServer.start();
  try {
    const lines = await runExample('redis-rate', { REDIS_ADDRESS: redis.address });
    expect(lines).toEqual([
      `servers: 2, sharing 3 calls per minute of Arith.Mul in Redis at ${redis.address}`,
      'client: 10 | 20 | 30 | request reached rate limit | request reached rate limit',
      'done',
    ]);
  } finally {
    await redis.destroy();
  }
}, 90_000);
