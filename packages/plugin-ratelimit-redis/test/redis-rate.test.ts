// The Redis limiter against a real redis-server on loopback: the GCRA state redis_rate keeps
// (key, TAT, expiry), server and client interceptors, and what happens when Redis is gone or
// frozen: fail open or closed as configured, with a warning, and never a hang.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { RateLimitError, RateLimitStoreError, ServiceError } from '@rpcx/core';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { RedisServer, redisCommand } from '../../registry-redis/test/redis-server.js';
import { RedisRateLimiter, type RedisRateLimitOptions } from '../src/index.js';

const HOUR = 3_600_000;
/** redis_rate counts time from 2017-01-01 UTC, in seconds. */
const EPOCH_2017 = 1483228800;

let redis: RedisServer;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
}, 30_000);

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

afterAll(async () => {
  await redis?.destroy();
});

class Arith {
  calls = 0;
  Mul(a: { A: number; B: number }) {
    this.calls++;
    return { C: a.A * a.B };
  }
}

async function serve(options: Partial<RedisRateLimitOptions> = {}) {
  const warnings: string[] = [];
  const limiter = new RedisRateLimiter({ redis: redis.address, rate: 1, periodMs: HOUR, burst: 3, logger: { warn: (m: unknown) => warnings.push(String(m)) }, ...options });
  await limiter.ready();
  const arith = new Arith();
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()], interceptors: [limiter.serverInterceptor()] });
  await server.register(arith);
  const listener = await server.listen('tcp', '127.0.0.1:0');
  const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(`tcp@${listener.address}`), transports: [tcpTransport()], codecs: [msgpackCodec()] });
  cleanup.push(() => limiter.close(), () => server.close(), () => client.close());
  return { limiter, server, client, arith, warnings, key: `tcp@${listener.address}` };
}

const bulk = (reply: string) => /^\$\d+\r\n(.*)\r\n$/.exec(reply)?.[1];

test("burst calls pass, then Go's text; the state is redis_rate's: rate:<servicePath>/<serviceMethod> holding the TAT, with an expiry", async () => {
  await redisCommand(redis.port, 'DEL', 'rate:Arith/Mul');
  const { client, arith } = await serve();
  for (let i = 1; i <= 3; i++) expect(await client.call('Mul', { A: i, B: 2 })).toEqual({ C: 2 * i });
  const refused = await client.call('Mul', { A: 9, B: 9 }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ServiceError);
  expect((refused as Error).message).toBe('request reached rate limit');
  expect(arith.calls).toBe(3);
  // TAT = now + 3 emission intervals of 3600 s (the burst was spent at once); expiry = ceil of that.
  const tat = Number(bulk(await redisCommand(redis.port, 'GET', 'rate:Arith/Mul')));
  const now = Date.now() / 1000 - EPOCH_2017;
  expect(tat - now).toBeGreaterThan(3 * 3600 - 60);
  expect(tat - now).toBeLessThanOrEqual(3 * 3600 + 1);
  const ttl = Number(/^:(\d+)/.exec(await redisCommand(redis.port, 'TTL', 'rate:Arith/Mul'))?.[1]);
  expect(ttl).toBeGreaterThan(3 * 3600 - 60);
  expect(ttl).toBeLessThanOrEqual(3 * 3600);
});

test('take() reports remaining and retry-after as redis_rate does; refills at rate per period', async () => {
  // One request per 500 ms: wide enough that a loaded machine does not refill between takes.
  const limiter = new RedisRateLimiter({ redis: redis.address, rate: 2, periodMs: 1000, burst: 2 });
  cleanup.push(() => limiter.close());
  await limiter.ready();
  const key = `refill-${Date.now()}`;
  const a = await limiter.take(key);
  const b = await limiter.take(key);
  const c = await limiter.take(key);
  // remaining is (now - allow_at) / interval, a float Redis truncates: 1, or 0 by rounding.
  expect([a.allowed, a.retryAfterMs]).toEqual([true, -1]);
  expect([0, 1]).toContain(a.remaining);
  expect([b.allowed, b.remaining]).toEqual([true, 0]);
  expect(c.allowed).toBe(false);
  // One emission interval (500 ms) at most, less what passed since a.
  expect(c.retryAfterMs).toBeGreaterThan(0);
  expect(c.retryAfterMs).toBeLessThanOrEqual(500);
  await new Promise((r) => setTimeout(r, c.retryAfterMs + 20));
  expect((await limiter.take(key)).allowed).toBe(true);
});

test('the client interceptor refuses before sending, from the key servers use', async () => {
  const key = `Arith/Mul-${Date.now()}`;
  const { key: serverKey, arith } = await serve({ rate: 1000, burst: 1000, keyPrefix: 'server-side:' });
  const limiter = new RedisRateLimiter({ redis: redis.address, rate: 1, periodMs: HOUR, burst: 2 });
  const client = new XClient({
    servicePath: 'Arith',
    discovery: peer2peer(serverKey),
    transports: [tcpTransport()],
    codecs: [msgpackCodec()],
    interceptors: [limiter.clientInterceptor(() => key)],
  });
  cleanup.push(() => limiter.close(), () => client.close());
  expect(await client.call('Mul', { A: 1, B: 2 })).toEqual({ C: 2 });
  expect(await client.call('Mul', { A: 1, B: 3 })).toEqual({ C: 3 });
  await expect(client.call('Mul', { A: 1, B: 4 })).rejects.toBeInstanceOf(RateLimitError);
  expect(arith.calls).toBe(2);
  expect(await redisCommand(redis.port, 'EXISTS', `rate:${key}`)).toBe(':1\r\n');
});

test('Redis gone: fail open lets calls through with one warning; fail closed refuses them with the store error as cause', async () => {
  const own = await RedisServer.start();
  cleanup.push(() => own.destroy());
  const open = new RedisRateLimiter({ redis: own.address, rate: 1, periodMs: HOUR, burst: 1, logger: { warn: () => undefined } });
  const warnings: string[] = [];
  const openLimiter = new RedisRateLimiter({ redis: own.address, rate: 1, periodMs: HOUR, burst: 1, logger: { warn: (m: unknown) => warnings.push(String(m)) } });
  const closedLimiter = new RedisRateLimiter({ redis: own.address, rate: 1, periodMs: HOUR, burst: 1, onRedisError: 'reject', logger: { warn: () => undefined } });
  cleanup.push(() => open.close(), () => openLimiter.close(), () => closedLimiter.close());
  await Promise.all([openLimiter.ready(), closedLimiter.ready()]);
  await own.stop();

  for (let i = 0; i < 5; i++) await openLimiter.check('Arith/Mul');
  expect(openLimiter.storeErrors).toBe(5);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/^rpcx: redis rate limit: .*; requests are let through \(fail open\)$/);

  const refused = await closedLimiter.check('Arith/Mul').catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(RateLimitError);
  expect((refused as Error).message).toBe('request reached rate limit');
  expect((refused as Error).cause).toBeInstanceOf(RateLimitStoreError);
});

test('Redis frozen (SIGSTOP): each call waits at most timeoutMs, then is answered as configured', async () => {
  const own = await RedisServer.start();
  cleanup.push(async () => {
    own.resume();
    await own.destroy();
  });
  const limiter = new RedisRateLimiter({ redis: own.address, rate: 1, periodMs: HOUR, burst: 100, timeoutMs: 150, onRedisError: 'reject', logger: { warn: () => undefined } });
  cleanup.push(() => limiter.close());
  await limiter.ready();
  await limiter.check('k');
  own.pause();
  const started = performance.now();
  const results = await Promise.all([1, 2, 3].map(() => limiter.check('k').catch((e: unknown) => e)));
  // Bound generous for a loaded machine: the point is that it ends, not how fast.
  expect(performance.now() - started).toBeLessThan(5000);
  for (const r of results) {
    expect(r).toBeInstanceOf(RateLimitError);
    expect(((r as Error).cause as Error).message).toMatch(/no answer within 150 ms|Command timed out/);
  }
  own.resume();
});

test('bad options are ConfigErrors', () => {
  expect(() => new RedisRateLimiter({ rate: 0 })).toThrow('rate (0)');
  expect(() => new RedisRateLimiter({ rate: 1, onRedisError: 'maybe' as 'allow' })).toThrow("onRedisError must be 'allow' or 'reject'");
});
