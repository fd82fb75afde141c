// Request and connection rate limits on a real TCP server: what rpcx, gateway and JSON-RPC
// clients see, per-method and per-client keys, blocking, and the bounded key map.
import { connect } from 'node:net';
import { RateLimitError, ServiceError, type ServerCall, type ServerCallResult } from '@rpcx/core';
import { connectionRateLimit, requestRateLimit } from '../src/index.js';
import { client, gatewayHeaders, jsonRpcHeaders, post, serve } from './support.js';

const HOUR = 3_600_000;
const body = JSON.stringify({ A: 6, B: 7 });

test("one server-wide limit across rpcx, gateway and JSON-RPC; refusals carry Go's text in each protocol", async () => {
  const { server, arith, port, key } = await serve({ interceptors: [requestRateLimit({ rate: 1, periodMs: HOUR, burst: 3 })] });
  const c = client(key);
  try {
    expect(await c.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
    expect((await post(port, gatewayHeaders('Mul'), body)).text).toBe('{"C":42}');
    expect((await post(port, jsonRpcHeaders, '{"method":"Arith.Mul","params":{"A":1,"B":5},"id":1}')).text).toContain('"result":{"C":5}');
    // The bucket is empty now: every protocol gets the refusal, the connection stays usable.
    const refused = await c.call('Mul', { A: 2, B: 3 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ServiceError);
    expect((refused as Error).message).toBe('request reached rate limit');
    const g = await post(port, gatewayHeaders('Mul'), body);
    expect(g.status).toBe(500);
    const j = await post(port, jsonRpcHeaders, '{"method":"Arith.Mul","params":{"A":1,"B":5},"id":2}');
    expect(j.text).toBe('{"jsonrpc":"2.0","error":{"code":-32603,"message":"request reached rate limit","data":null},"id":2}');
    expect(arith.calls).toBe(3);
  } finally {
    await c.close();
    await server.close();
  }
});

test("by: 'method' gives each method its own bucket", async () => {
  const { server, key } = await serve({ interceptors: [requestRateLimit({ rate: 1, periodMs: HOUR, burst: 1, by: 'method' })] });
  const c = client(key);
  try {
    expect(await c.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
    await expect(c.call('Mul', { A: 2, B: 3 })).rejects.toThrow('request reached rate limit');
    expect(await c.call('Add', { A: 2, B: 3 })).toEqual({ C: 5 });
    await expect(c.call('Add', { A: 2, B: 3 })).rejects.toThrow('request reached rate limit');
  } finally {
    await c.close();
    await server.close();
  }
});

/** A call as the interceptor sees it, from `remoteAddress`, whose method answers at once. */
function fakeCall(remoteAddress: string, method = 'Mul'): ServerCall {
  return {
    protocol: 'rpcx',
    servicePath: 'Arith',
    serviceMethod: method,
    metadata: {},
    remoteAddress,
    serializeType: 1,
    oneway: false,
    payload: new Uint8Array(0),
    args: undefined,
    context: { signal: new AbortController().signal, deadline: undefined } as unknown as ServerCall['context'],
  };
}
const answer = async (): Promise<ServerCallResult> => ({ payload: new Uint8Array(0), metadata: {} });

test("by: 'client' keys by host (not port, IPv6 too), and made-up keys cannot grow the map past maxKeys", async () => {
  const handle = requestRateLimit({ rate: 1, periodMs: HOUR, burst: 1, by: 'client', maxKeys: 2 })(answer);
  await handle(fakeCall('10.0.0.1:1111'));
  await expect(handle(fakeCall('10.0.0.1:2222'))).rejects.toBeInstanceOf(RateLimitError);
  await handle(fakeCall('[2001:db8::1]:1111'));
  await expect(handle(fakeCall('[2001:db8::1]:3333'))).rejects.toBeInstanceOf(RateLimitError);
  // A third host takes the slot of the least recently used one (10.0.0.1), which starts afresh.
  await handle(fakeCall('10.0.0.3:1'));
  await handle(fakeCall('10.0.0.1:1'));
  await expect(handle(fakeCall('10.0.0.1:1'))).rejects.toBeInstanceOf(RateLimitError);
});

test('block: calls wait their turn for a token; a wait longer than maxWaitMs is refused at once', async () => {
  const { server, arith, key } = await serve({ interceptors: [requestRateLimit({ rate: 20, burst: 1, block: true, maxWaitMs: 5000 })] });
  const c = client(key);
  try {
    const started = performance.now();
    const replies = await Promise.all([1, 2, 3, 4].map((a) => c.call('Mul', { A: a, B: 1 })));
    expect(replies).toEqual([{ C: 1 }, { C: 2 }, { C: 3 }, { C: 4 }]);
    // Three waited 50 ms apart: at least 150 ms in all (no upper bound: the machine may be slow).
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(arith.calls).toBe(4);
  } finally {
    await c.close();
    await server.close();
  }
  const strict = await serve({ interceptors: [requestRateLimit({ rate: 1, periodMs: HOUR, burst: 1, block: true, maxWaitMs: 100 })] });
  const c2 = client(strict.key);
  try {
    await c2.call('Mul', { A: 1, B: 1 });
    await expect(c2.call('Mul', { A: 1, B: 1 })).rejects.toThrow('request reached rate limit');
  } finally {
    await c2.close();
    await strict.server.close();
  }
});

/** Open a TCP connection, send `bytes`, and report whether the server answered or closed. */
function probe(port: number, bytes: string): Promise<'answered' | 'closed'> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setTimeout(5000, () => socket.destroy(new Error('neither answered nor closed in 5 s')));
    socket.once('data', () => {
      socket.destroy();
      resolve('answered');
    });
    socket.once('close', () => resolve('closed'));
    socket.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve('closed') : reject(e)));
  });
}

test('connectionRateLimit closes connections past the rate on accept, for HTTP as for rpcx', async () => {
  const limit = connectionRateLimit({ rate: 1, periodMs: HOUR, burst: 2 });
  const { server, port, key } = await serve();
  await server.use(limit);
  const httpGet = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
  try {
    expect(await probe(port, httpGet)).toBe('answered');
    const c = client(key);
    expect(await c.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
    await c.close();
    expect(await probe(port, httpGet)).toBe('closed');
    const late = client(key);
    await expect(late.call('Mul', { A: 2, B: 3 })).rejects.toThrow();
    await late.close();
  } finally {
    await server.close();
  }
});
