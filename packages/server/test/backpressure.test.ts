// A client that sends but never reads costs the server a bounded amount of memory, and other
// clients keep being served meanwhile. The server runs in a child process; its heap and Buffer
// memory is read there after a GC, while the attacker is still connected.
import type { RequestContext } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import {
  attackWithNonReader,
  closesWithin,
  expectServed,
  frame,
  nonReadingSocket,
  startTarget,
  stopAllTargets,
  waitUntil,
  type AttackResult,
} from './hostile.js';

/** Each test starts a server process and attacks it for seconds. */
const TIMEOUT = 60_000;
afterEach(stopAllTargets);

const codec = msgpackCodec();
/** Memory the server may grow by while a non-reader is attached (its queues are capped at 1 MiB). */
const GROWTH_BOUND = 48 * 1024 * 1024;

/** Start the target server (with `serverOptions`, and auth when `token` is set) and attack it. */
async function attack(options: { serverOptions?: Record<string, unknown>; token?: string; payload: () => Buffer }): Promise<AttackResult> {
  return attackWithNonReader(await startTarget(options.serverOptions, options.token), options.payload, options.token);
}

// 16 calls of 16 KiB each, echoed: without back-pressure the server grew by ~430 MB in 3 s here.
const echo = frame({ servicePath: 'Echo', serviceMethod: 'Say', serializeType: 0, seq: 1, payload: Buffer.alloc(16 * 1024, 7) });
const echoBatch = Buffer.concat(Array.from({ length: 16 }, () => echo));

test('pipelined calls from a client that never reads: reading stops, memory stays bounded', async () => {
  const r = await attack({ payload: () => echoBatch });
  expect(r.growth).toBeLessThan(GROWTH_BOUND);
  // the server stopped taking requests long before the attacker ran out of them
  expect(r.took).toBeLessThan(64 * 1024 * 1024);
  expectServed(r);
}, TIMEOUT);

test('the same attack with back-pressure turned off does grow the server past the bound', async () => {
  // Shows that the bound above can fail: nothing else holds the replies back.
  const r = await attack({ payload: () => echoBatch, serverOptions: { writeHighWaterMark: 2 ** 40, writeTimeoutMs: 0 } });
  expect(r.growth).toBeGreaterThan(GROWTH_BOUND);
}, TIMEOUT);

test('calls for an unknown 256 KiB service path: replies are no larger than requests, and bounded', async () => {
  const unknown = frame({ servicePath: 'x'.repeat(256 * 1024), serviceMethod: 'Mul', serializeType: 3, seq: 9, payload: codec.encode({}) });
  const r = await attack({ payload: () => unknown });
  expect(r.growth).toBeLessThan(GROWTH_BOUND);
  expectServed(r);
}, TIMEOUT);

test('heartbeats from a client without a token, auth on: small and paced', async () => {
  // Under the 1 MiB pre-auth limit: echoed, but only as fast as the client reads (never).
  const heartbeat = frame({ heartbeat: true, serializeType: 3, seq: 1, payload: Buffer.alloc(512 * 1024, 1) });
  const r = await attack({ payload: () => heartbeat, token: 'secret' });
  expect(r.growth).toBeLessThan(GROWTH_BOUND);
  expectServed(r);
}, TIMEOUT);

test('a heartbeat over the pre-auth limit closes the connection before it is buffered', async () => {
  const target = await startTarget({}, 'secret');
  const socket = await nonReadingSocket(target.port);
  const big = frame({ heartbeat: true, serializeType: 3, seq: 1, payload: Buffer.alloc(2 * 1024 * 1024, 1) });
  socket.write(big.subarray(0, 16));
  expect(await closesWithin(socket, 5000)).toBe(true);
  target.stop();
}, TIMEOUT);

test('server push to a client that never reads waits for it, and the write timeout ends it', async () => {
  // In this process: the pushing service counts how far it got.
  let pushed = 0;
  let outcome: Error | undefined;
  const server = new Server({ transports: [tcpTransport()], codecs: [codec], writeTimeoutMs: 1000 });
  try {
    await server.register(
      {
        async Flood(_args: unknown, ctx: RequestContext) {
          try {
            for (let i = 0; i < 10_000; i++) {
              await ctx.push('Push', 'Data', Buffer.alloc(16 * 1024, 1));
              pushed++;
            }
          } catch (err) {
            outcome = err as Error;
          }
          return {};
        },
      },
      { name: 'Pusher' },
    );
    const address = (await server.listen('tcp', '127.0.0.1:0')).address;
    const socket = await nonReadingSocket(Number(address.split(':')[1]));
    socket.write(frame({ servicePath: 'Pusher', serviceMethod: 'Flood', serializeType: 3, seq: 1, payload: codec.encode({}) }));
    // 10,000 pushes are 160 MiB. The client reads none: the service is held back once the
    // high-water mark and the kernel's buffers are full, and the write timeout ends it.
    expect(await waitUntil(() => outcome !== undefined, 10_000)).toBe(true);
    expect(outcome).toMatchObject({ code: 'RPCX_ERR_SHUTDOWN' });
    expect(server.activeConnections()).toHaveLength(0);
    expect(pushed * 16 * 1024).toBeLessThan(32 * 1024 * 1024);
    socket.destroy();
  } finally {
    await server.close();
  }
}, TIMEOUT);
