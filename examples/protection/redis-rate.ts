// @rpcx/plugin-ratelimit-redis: one limit in Redis for every server, Go or TypeScript (Go's
// RedisRateLimitingPlugin uses the same algorithm and key). Two servers here share 3 calls
// per minute on Arith.Mul. Redis at REDIS_ADDRESS (default 127.0.0.1:6379).
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { RedisRateLimiter } from '@rpcx/plugin-ratelimit-redis';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, multipleServers } from '@rpcx/xclient';
import { Arith } from './arith.js';

const redis = process.env.REDIS_ADDRESS ?? '127.0.0.1:6379';
const limiter = new RedisRateLimiter({ redis, rate: 3, periodMs: 60_000, onRedisError: 'reject' });
await limiter.ready();

const servers: Server[] = [];
const keys: string[] = [];
for (let i = 0; i < 2; i++) {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()], interceptors: [limiter.serverInterceptor()] });
  await server.register(new Arith());
  keys.push(`tcp@${(await server.listen('tcp', '127.0.0.1:0')).address}`);
  servers.push(server);
}
console.log(`servers: 2, sharing 3 calls per minute of Arith.Mul in Redis at ${redis}`);

const client = new XClient({
  servicePath: 'Arith',
  discovery: multipleServers(keys.map((key) => ({ key, value: '' }))),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
});
const outcomes: string[] = [];
for (let i = 1; i <= 5; i++) {
  outcomes.push(await client.call<{ C: number }>('Mul', { A: i, B: 10 }).then((r) => `${r.C}`, (e: Error) => e.message));
}
console.log(`client: ${outcomes.join(' | ')}`);

await client.close();
for (const s of servers) await s.close();
await limiter.close();
console.log('done');
