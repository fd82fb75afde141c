// `pnpm --filter @rpcx/bench run bench:ratelimit`: how close the rate limiters keep to their
// configured rate under 5× that load. A server with the limiter and a client in this process
// over TCP on loopback; the client sends at 5× the rate, open loop (calls are sent on a
// schedule, whatever the answers), for --duration-ms (10000). Counted at the server: calls
// let through during the window. Expected: the burst (the bucket starts full) plus
// rate × duration; the figure is the steady-state rate, (allowed − burst) / duration, against
// the configured rate. Two limiters: @rpcx/plugin-limits' local token bucket, and
// @rpcx/plugin-ratelimit-redis' GCRA in a redis-server started here on loopback (skipped
// when `redis-server` is not installed).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import type { ServerInterceptor } from '@rpcx/core';
import { requestRateLimit } from '@rpcx/plugin-limits';
import { RedisRateLimiter } from '@rpcx/plugin-ratelimit-redis';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '10000' },
    rate: { type: 'string', default: '200' },
    burst: { type: 'string', default: '20' },
    overload: { type: 'string', default: '5' },
  },
});
const durationMs = Number(values['duration-ms']);
const rate = Number(values.rate);
const burst = Number(values.burst);
const overload = Number(values.overload);

class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
}

interface Outcome {
  limiter: string;
  offered: number;
  allowed: number;
  steadyRate: number;
  errorPct: number;
}

async function measure(limiter: string, limit: ServerInterceptor): Promise<Outcome> {
  let counting = false;
  let allowed = 0;
  const count: ServerInterceptor = (next) => async (call) => {
    const result = await next(call);
    if (counting && !result.error) allowed++;
    return result;
  };
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()], interceptors: [count, limit] });
  await server.register(new Arith());
  const listener = await server.listen('tcp', '127.0.0.1:0');
  const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(`tcp@${listener.address}`), transports: [tcpTransport()], codecs: [msgpackCodec()] });
  await client.call('Mul', { A: 1, B: 1 }).catch(() => undefined); // connect first

  // The bucket is full again before the window opens (one quiet spell of burst / rate, twice).
  await sleep((2 * 1000 * burst) / rate);
  const perMs = (overload * rate) / 1000;
  const pending: Promise<unknown>[] = [];
  let sent = 0;
  counting = true;
  const start = performance.now();
  for (let now = start; now - start < durationMs; now = performance.now()) {
    const due = Math.floor((now - start) * perMs);
    for (; sent < due; sent++) pending.push(client.call('Mul', { A: sent, B: 2 }).catch(() => undefined));
    await sleep(5);
  }
  // Calls sent in the window are counted when the server sees them; let the last ones land.
  await Promise.all(pending);
  counting = false;
  await client.close();
  await server.close();
  const steadyRate = ((allowed - burst) * 1000) / durationMs;
  return { limiter, offered: sent, allowed, steadyRate, errorPct: (100 * (steadyRate - rate)) / rate };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function withRedis<T>(run: (address: string) => Promise<T>): Promise<T | undefined> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = once(child, 'error').then(() => undefined);
  try {
    const address = `127.0.0.1:${port}`;
    const started = await Promise.race([sleep(300).then(() => true), failed]);
    if (!started) return undefined;
    return await run(address);
  } finally {
    child.kill('SIGKILL');
  }
}

const outcomes: Outcome[] = [];
outcomes.push(await measure('local token bucket (@rpcx/plugin-limits)', requestRateLimit({ rate, burst })));
const redisOutcome = await withRedis(async (address) => {
  const limiter = new RedisRateLimiter({ redis: address, rate, burst, timeoutMs: 1000 });
  await limiter.ready();
  try {
    return await measure('Redis GCRA (@rpcx/plugin-ratelimit-redis)', limiter.serverInterceptor());
  } finally {
    await limiter.close();
  }
});
if (redisOutcome) outcomes.push(redisOutcome);
else console.error('redis-server not found: the Redis limiter was not measured');

console.log(`Rate-limit accuracy: limit ${rate}/s (burst ${burst}), offered ${overload}× for ${durationMs / 1000} s\n`);
console.log('| Limiter | Calls sent | Allowed | Steady rate (allowed − burst) / s | Off the limit |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const o of outcomes) {
  console.log(`| ${o.limiter} | ${o.offered} | ${o.allowed} | ${o.steadyRate.toFixed(1)} | ${o.errorPct >= 0 ? '+' : ''}${o.errorPct.toFixed(2)}% |`);
}
