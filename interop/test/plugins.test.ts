// The protection plugins against real Go rpcx v1.9.4 (interop/go-plugins): a Go client sees
// our rate-limit refusal exactly as it sees Go's ReqRateLimitingPlugin's; a Go client calls
// an alias; and a Go server with Go's RedisRateLimitingPlugin and a TypeScript server with
// RedisRateLimiter, against one Redis, draw from one limit.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { aliasPlugin } from '@rpcx/plugin-alias';
import { requestRateLimit } from '@rpcx/plugin-limits';
import { RedisRateLimiter } from '@rpcx/plugin-ratelimit-redis';
import { Server, type ServerOptions } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { RedisServer, redisCommand } from '../../packages/registry-redis/test/redis-server.js';
import { buildPlugpeer, goCalls, startPlugpeer } from './support/plugin-peer.js';

const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(() => buildPlugpeer(), 600_000);

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
}

async function serveTs(options: Partial<ServerOptions>, setup?: (s: Server) => Promise<void>) {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()], ...options });
  await server.register(new Arith());
  await setup?.(server);
  const listener = await server.listen('tcp', '127.0.0.1:0');
  cleanup.push(() => server.close());
  return `tcp@${listener.address}`;
}

test("a Go client sees our refusal as it sees Go's ReqRateLimitingPlugin's: a ServiceError 'request reached rate limit'", async () => {
  const ts = await serveTs({ interceptors: [requestRateLimit({ rate: 1, periodMs: 3_600_000, burst: 2 })] });
  const go = await startPlugpeer(['--req-rate', '1h', '--capacity', '2']);
  cleanup.push(() => go.stop());
  const fromTs = await goCalls(ts, 4);
  const fromGo = await goCalls(go.key, 4);
  const refusal = { ok: false, error: 'request reached rate limit', serviceError: true };
  expect(fromGo).toEqual([{ ok: true, c: 2 }, { ok: true, c: 4 }, refusal, refusal]);
  expect(fromTs).toEqual(fromGo);
});

test('a Go client calls an alias of ours and gets the real method’s reply', async () => {
  const ts = await serveTs({}, (s) => s.use(aliasPlugin().alias('Calc', 'Times', 'Arith', 'Mul')));
  expect(await goCalls(ts, 3, 'Calc', 'Times')).toEqual([
    { ok: true, c: 2 },
    { ok: true, c: 4 },
    { ok: true, c: 6 },
  ]);
});

test("a Go server with Go's RedisRateLimitingPlugin and a TS server with RedisRateLimiter share one limit in one Redis", async () => {
  // Go's plugin takes a go-redis ClusterClient: a one-node cluster serves it and ioredis alike.
  const redis = await RedisServer.start({ cluster: true });
  cleanup.push(() => redis.destroy());
  const limit = 10;
  const go = await startPlugpeer(['--redis-rate', redis.address, '--rate', String(limit), '--burst', String(limit), '--period', '1h']);
  cleanup.push(() => go.stop());
  const limiter = new RedisRateLimiter({ redis: redis.address, rate: limit, burst: limit, periodMs: 3_600_000 });
  cleanup.push(() => limiter.close());
  const ts = await serveTs({ interceptors: [limiter.serverInterceptor()] });

  const client = (key: string) => new XClient({ servicePath: 'Arith', discovery: peer2peer(key), transports: [tcpTransport()], codecs: [msgpackCodec()] });
  const toGo = client(go.key);
  const toTs = client(ts);
  cleanup.push(() => toGo.close(), () => toTs.close());
  const allowed = { go: 0, ts: 0 };
  const refusals = new Set<string>();
  for (let i = 0; i < 2 * limit; i++) {
    for (const [side, c] of [['go', toGo], ['ts', toTs]] as const) {
      try {
        await c.call('Mul', { A: i, B: 2 });
        allowed[side]++;
      } catch (e) {
        refusals.add((e as Error).message);
      }
    }
  }
  // 40 calls at a limit of 10 per hour: 10 allowed in all, by both servers, then both refuse.
  expect(allowed.go + allowed.ts).toBe(limit);
  expect(allowed.go).toBeGreaterThan(0);
  expect(allowed.ts).toBeGreaterThan(0);
  expect([...refusals]).toEqual(['request reached rate limit']);
  // The one key both used: redis_rate's.
  expect(await redisCommand(redis.port, 'KEYS', 'rate:*')).toBe('*1\r\n$14\r\nrate:Arith/Mul\r\n');
}, 60_000);
