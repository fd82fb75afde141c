// TypeScript client → Go server: our XClient against the real rpcx server (interop/go).
import { createHash } from 'node:crypto';
import { CompressType, ConnectionError, ServiceError, SerializeType, TimeoutError } from '@rpcx/core';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer, type ServerMessage, type XClientOptions } from '@rpcx/xclient';
import { startGoServer, type GoServer } from './support/go-peer.js';
import { BenchmarkMessage, ProtoArgs, ProtoReply, ThriftArgs, ThriftReply, allCodecs, benchmarkArgs } from './support/services.js';

describe('TS client → Go rpcx server', () => {
  let go: GoServer;
  let goAuth: GoServer;
  const clients: XClient[] = [];
  const client = (servicePath: string, options: Partial<XClientOptions> = {}, server = go) => {
    const c = new XClient({ servicePath, discovery: peer2peer(server.key), transports: [tcpTransport()], codecs: allCodecs(), ...options });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    [go, goAuth] = await Promise.all([startGoServer(), startGoServer(['--auth', 's3cret'])]);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([go.stop(), goAuth.stop()]);
  });

  test.each([
    ['msgpack', SerializeType.MsgPack],
    ['json', SerializeType.JSON],
  ])('codec %s: Arith.Mul 10×20', async (_name, serializeType) => {
    expect(await client('Arith', { serializeType }).call('Mul', { A: 10, B: 20 })).toEqual({ C: 200 });
  });

  test('protobuf: PB.Mul and the 581-byte benchmark message', async () => {
    const pb = client('PB', { serializeType: SerializeType.ProtoBuffer });
    expect(await pb.call('Mul', { A: 10, B: 20 }, { schema: { args: ProtoArgs, reply: ProtoReply } })).toEqual({ C: 200 });
    const sent = benchmarkArgs();
    const echoed = await pb.call<Record<string, unknown>>('Echo', sent, { schema: { args: BenchmarkMessage, reply: BenchmarkMessage } });
    expect(echoed.field1).toBe('OK');
    expect(echoed.field2).toBe(100);
    expect(echoed.field9).toBe(sent.field9);
  });

  test('thrift: Thrift.Mul', async () => {
    const reply = await client('Thrift', { serializeType: SerializeType.Thrift }).call<{ C: number }>('Mul', new ThriftArgs({ A: 10, B: 20 }), {
      schema: { args: ThriftArgs, reply: ThriftReply },
    });
    expect(reply.C).toBe(200);
  });

  test('raw bytes and gzip on a 200 KB payload', async () => {
    const echo = client('Echo', { serializeType: SerializeType.None, compressType: CompressType.Gzip });
    const small = Buffer.from('00017f80feff72706378', 'hex');
    expect(Buffer.from(await echo.call<Uint8Array>('Echo', small)).equals(small)).toBe(true);
    const big = Buffer.alloc(204_800);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 7)) % 61;
    const back = Buffer.from(await echo.call<Uint8Array>('Echo', big));
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
  });

  test('request and response metadata', async () => {
    const responseMetadata: Record<string, string> = {};
    expect(await client('Arith').call('Meta', { A: 0, B: 0 }, { metadata: { a: '1', b: 'x y' }, responseMetadata })).toEqual({ C: 2 });
    expect(responseMetadata).toEqual({ 'echo-a': '1', 'echo-b': 'x y', __ServerAddress: go.key });
  });

  test('service error with Go text and the reply Go sends with it', async () => {
    const err = await client('Arith').call('Error', { A: 7, B: 0 }).catch((e: ServiceError) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).message).toBe('boom 7');
    expect((err as ServiceError).reply).toEqual({ C: 7 });
  });

  test('unknown service and method', async () => {
    await expect(client('NoSuchService').call('Mul', { A: 1, B: 1 })).rejects.toThrow(new ServiceError("rpcx: can't find service NoSuchService"));
    await expect(client('Arith').call('NoSuchMethod', { A: 1, B: 1 })).rejects.toThrow("rpcx: can't find method NoSuchMethod");
  });

  test('oneway', async () => {
    const arith = client('Arith');
    await arith.oneshot('Notify', { A: 5, B: 0 });
    await arith.oneshot('Notify', { A: 6, B: 0 });
    // Go handles each request in its own goroutine: poll until both notes have landed.
    let sum = 0;
    for (let i = 0; i < 50 && sum < 11; i++) {
      sum += (await arith.call<{ C: number }>('Notified', { A: 0, B: 0 })).C;
      if (sum < 11) await new Promise((r) => setTimeout(r, 20));
    }
    expect(sum).toBe(11);
  });

  test('heartbeats are answered by Go and keep the connection', async () => {
    const arith = client('Arith', { heartbeat: { intervalMs: 50, timeoutMs: 1000 } });
    const disconnects: string[] = [];
    arith.on('disconnect', (s) => disconnects.push(s));
    expect(await arith.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
    await new Promise((r) => setTimeout(r, 400));
    expect(await arith.call('Mul', { A: 3, B: 3 })).toEqual({ C: 9 });
    expect(disconnects).toEqual([]);
  });

  test('auth accepted, and refused with the connection closed', async () => {
    expect(await client('Arith', { auth: 's3cret' }, goAuth).call('Mul', { A: 10, B: 20 })).toEqual({ C: 200 });
    const refused = client('Arith', { auth: 'wrong' }, goAuth);
    const closed = new Promise((r) => refused.once('disconnect', r));
    await expect(refused.call('Mul', { A: 10, B: 20 })).rejects.toThrow(new ServiceError('invalid token'));
    await closed;
  });

  test('server push from Go', async () => {
    const arith = client('Arith');
    const pushed = new Promise<ServerMessage>((r) => arith.once('message', r));
    expect(await arith.call('Push', { A: 3, B: 0 })).toEqual({ C: 3 });
    const m = await pushed;
    expect([m.servicePath, m.serviceMethod, Buffer.from(m.payload).toString()]).toEqual(['Push', 'Hello', 'push 3']);
    expect({ ...m.metadata }).toEqual({ k: 'v' });
    expect(m.message).toMatchObject({ oneway: true, isResponse: false, serializeType: 0 });
  });

  test('a client timeout reaches the Go server and cancels its context', async () => {
    const arith = client('Arith');
    const err = await arith.call('Slow', { A: 2000, B: 0 }, { timeoutMs: 200 }).catch((e) => e);
    // Go's deadline fires at the same moment: either side may win the race.
    if (err instanceof Error) expect(err).toBeInstanceOf(TimeoutError);
    else expect(err).toEqual({ C: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await arith.call('LastSlow', { A: 0, B: 0 })).toEqual({ C: 1 });
    const d = await arith.call<{ C: number }>('Deadline', { A: 0, B: 0 }, { timeoutMs: 5000 });
    expect(d.C).toBeGreaterThan(4000);
    expect(d.C).toBeLessThanOrEqual(5000);
  });

  test('1000 concurrent calls on one connection', async () => {
    const arith = client('Arith');
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => arith.call<{ C: number }>('Mul', { A: i, B: i + 1 })));
    expect(replies.filter((r, i) => r.C === i * (i + 1))).toHaveLength(1000);
  });

  test('64-bit integers beyond 2^53 survive msgpack and JSON', async () => {
    const wide = { I: -9007199254740993n, U: 18446744073709551615n, S: 'wide' };
    expect(await client('Int64').call('Echo', wide)).toEqual(wide);
    expect(await client('Int64', { serializeType: SerializeType.JSON }).call('Echo', wide)).toEqual(wide);
  });

  test('the seed member service, msgpack and JSON', async () => {
    const info = await client('ServiceUser').call('UserInfo', { Uid: 999 });
    expect(info).toEqual({ UID: 999, AddTime: 14990093, UserType: 2, Uface: 'http://image.xxxx.xxx/t.gif', UserName: 'Joke' });
    const reply = await client('ServiceUserFn', { serializeType: SerializeType.JSON }).call('UserReply', { Uid: 888 });
    expect(reply).toEqual({ id: 888, addtime: 10000999, utype: 3, uface: 'http://image.xxxx.xxx/reply.gif', uname: 'Reply' });
  });

  test('a killed server fails pending calls with a connection error', async () => {
    const doomed = await startGoServer();
    const arith = client('Arith', {}, doomed);
    expect(await arith.call('Mul', { A: 1, B: 1 })).toEqual({ C: 1 });
    const pending = arith.call('Slow', { A: 5000, B: 0 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 50));
    doomed.process.kill('SIGKILL');
    expect(await pending).toBeInstanceOf(ConnectionError);
    await doomed.stop();
  });
});
