// KCP (network `kcp`) against real Go rpcx built with the `kcp` tag (kcp-go v5.4.20, FEC 10+3,
// AES with the rpcx examples' key, stream mode and ACK no-delay as the examples set them),
// both directions: Go's client → our server, and our client → Go's `Serve("kcp", addr)`.
// One call of each codec and a 1 MiB echo. kcp-go sends at most 32 segments per 100 ms
// (its default window and interval), so a 1 MiB echo through a Go peer takes several seconds.
import { createHash } from 'node:crypto';
import { SerializeType } from '@rpcx/core';
import { kcpTransport } from '@rpcx/transport-kcp';
import { XClient, peer2peer, type XClientOptions } from '@rpcx/xclient';
import { runGoPeer, startGoServer, type GoServer } from './support/go-peer.js';
import { ProtoArgs, ProtoReply, ThriftArgs, ThriftReply, allCodecs, startTsServer } from './support/services.js';

const NETWORK = 'kcp';
const transport = () => kcpTransport();

type Result = Record<string, any>;

/** The same 1 MiB the Go peer's raw-1mib scenario sends: byte i = i*31 + i>>7 (mod 256). */
function mebibyte(): Buffer {
  const b = Buffer.alloc(1 << 20);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >> 7)) & 0xff;
  return b;
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe(`Go rpcx client → TS server over ${NETWORK}`, () => {
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  const scenario = (name: string) => runGoPeer<Result>(['client', '--addr', ts.key, '--scenario', name]);

  beforeAll(async () => {
    ts = await startTsServer({ transports: [transport()] }, NETWORK);
  });
  afterAll(async () => {
    await ts?.server.close();
  });

  test('the server key names the network', () => {
    expect(ts.key).toMatch(new RegExp(`^${NETWORK}@127\\.0\\.0\\.1:\\d+$`));
  });

  test.each(['msgpack', 'json', 'thrift'])('codec %s: Arith.Mul / Thrift.Mul 10×20', async (codec) => {
    expect(await scenario(codec)).toMatchObject({ ok: true, C: 200, pass: true });
  });

  test('protobuf: PB.Mul and the benchmark message echo', async () => {
    expect(await scenario('protobuf')).toMatchObject({ ok: true, C: 200, echoField1: 'OK', echoSameRest: true, pass: true });
  });

  test('raw: Echo.Echo of 1 MiB', async () => {
    const r = await scenario('raw-1mib');
    expect(r).toMatchObject({ ok: true, length: 1 << 20, sha256Match: true });
    expect(r.sha256).toBe(sha256(mebibyte()));
  }, 60_000);
});

describe(`TS client → Go rpcx server over ${NETWORK}`, () => {
  let go: GoServer;
  const clients: XClient[] = [];
  const client = (servicePath: string, options: Partial<XClientOptions> = {}) => {
    const c = new XClient({ servicePath, discovery: peer2peer(go.key), transports: [transport()], codecs: allCodecs(), ...options });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    go = await startGoServer(['--network', NETWORK]);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await go?.stop();
  });

  test('the Go server announces the network', () => {
    expect(go.key).toMatch(new RegExp(`^${NETWORK}@127\\.0\\.0\\.1:\\d+$`));
  });

  test.each([
    ['msgpack', SerializeType.MsgPack],
    ['json', SerializeType.JSON],
  ])('codec %s: Arith.Mul 10×20', async (_name, serializeType) => {
    expect(await client('Arith', { serializeType }).call('Mul', { A: 10, B: 20 })).toEqual({ C: 200 });
  });

  test('protobuf: PB.Mul', async () => {
    const pb = client('PB', { serializeType: SerializeType.ProtoBuffer });
    expect(await pb.call('Mul', { A: 10, B: 20 }, { schema: { args: ProtoArgs, reply: ProtoReply } })).toEqual({ C: 200 });
  });

  test('thrift: Thrift.Mul', async () => {
    const reply = await client('Thrift', { serializeType: SerializeType.Thrift }).call<{ C: number }>('Mul', new ThriftArgs({ A: 10, B: 20 }), {
      schema: { args: ThriftArgs, reply: ThriftReply },
    });
    expect(reply.C).toBe(200);
  });

  test('raw: Echo.Echo of 1 MiB', async () => {
    const sent = mebibyte();
    const back = await client('Echo', { serializeType: SerializeType.None }).call<Uint8Array>('Echo', sent, { timeoutMs: 50_000 });
    expect(back.length).toBe(sent.length);
    expect(sha256(back)).toBe(sha256(sent));
  }, 60_000);
});
