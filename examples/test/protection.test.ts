// The protection plugins' examples (examples/protection), run as a user runs them.
import { RedisServer } from '../../packages/registry-redis/test/redis-server.js';
import { DEADLINE_MS, run } from './support.js';

const TIMEOUT = 2 * DEADLINE_MS;

test('protection/limits.ts: the per-client limit lets two of four calls through', async () => {
  const lines = await run('protection/limits.ts');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+, 1000 calls\/s \(burst 100\), 2 calls\/min per client$/);
  expect(lines.slice(1)).toEqual(['client: 10 | 20 | request reached rate limit | request reached rate limit', 'done']);
}, TIMEOUT);

test('protection/access.ts: served from 127.0.0.1, closed from the denied 127.0.0.2', async () => {
  const lines = await run('protection/access.ts');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+, allow 127\.0\.0\.0\/8 and ::1, deny 127\.0\.0\.2$/);
  expect(lines.slice(1)).toEqual(['client from 127.0.0.1: 6 * 7 = 42', 'client from 127.0.0.2: closed by the server: true; refused so far: 1', 'done']);
}, TIMEOUT);

test('protection/alias.ts: Calc.Times answers as Arith.Mul', async () => {
  const lines = await run('protection/alias.ts');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+, alias Calc\.Times -> Arith\.Mul$/);
  expect(lines.slice(1)).toEqual(['client: Calc.Times 6 7 = 42', 'done']);
}, TIMEOUT);

test('protection/tee.ts: the copy is the rpcx request as read', async () => {
  const lines = await run('protection/tee.ts');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+, teeing what it reads$/);
  expect(lines[1]).toMatch(/^tee: [1-9]\d* bytes copied, 0 dropped; first byte 0x08 \(rpcx magic\); names Arith\.Mul: true$/);
  expect(lines[2]).toBe('done');
}, TIMEOUT);

test('protection/redis-rate.ts: two servers share 3 calls per minute through a real Redis', async () => {
  const redis = await RedisServer.start();
  try {
    const lines = await run('protection/redis-rate.ts', [], { REDIS_ADDRESS: redis.address });
    expect(lines).toEqual([
      `servers: 2, sharing 3 calls per minute of Arith.Mul in Redis at ${redis.address}`,
      'client: 10 | 20 | 30 | request reached rate limit | request reached rate limit',
      'done',
    ]);
  } finally {
    await redis.destroy();
  }
}, TIMEOUT);
