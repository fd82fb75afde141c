// The interop matrix every transport runs against real Go rpcx, both directions: Go's client →
// our server, and our client → Go's `Serve(network, addr)`. One call of each codec and a 1 MiB
// echo. Each transport's test file calls `transportInterop` with its network and factory.
import { createHash } from 'node:crypto';
import { SerializeType, type Transport } from '@rpcx/core';
import { XClient, peer2peer, type XClientOptions } from '@rpcx/xclient';
import { runGoPeer, startGoServer, type GoServer } from './go-peer.js';
import { ProtoArgs, ProtoReply, ThriftArgs, ThriftReply, allCodecs, startTsServer } from './services.js';

type Result = Record<string, any>;

export interface TransportInteropOptions {
  network: string;
  /** The transport of the TS server and of the TS client, with its settings (e.g. TLS for both sides). */
  transport: () => Transport;
  /** Extra `peer serve` / `peer client` flags (e.g. TLS files). */
  goServeArgs?: string[];
  goClientArgs?: string[];
  /** For slow links (kcp-go's default window): the 1 MiB echo's time limit. */
  bigPayloadTimeoutMs?: number;
}

/** The same 1 MiB the Go peer's raw-1mib scenario sends: byte i = i*31 + i>>7 (mod 256). */
function mebibyte(): Buffer {
  const b = Buffer.alloc(1 << 20);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >> 7)) & 0xff;
  return b;
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function transportInterop(o: TransportInteropOptions): void {
  const { network } = o;
  const bigTimeout = o.bigPayloadTimeoutMs ?? 30_000;

  describe(`Go rpcx client → TS server over ${network}`, () => {
    let ts: Awaited<ReturnType<typeof startTsServer>>;
    const scenario = (name: string) => runGoPeer<Result>(['client', '--addr', ts.key, '--scenario', name, ...(o.goClientArgs ?? [])], bigTimeout);

    beforeAll(async () => {
      ts = await startTsServer({ transports: [o.transport()] }, network);
    });
    afterAll(async () => {
      await ts?.server.close();
    });

    test('the server key names the network', () => {
      expect(ts.key).toMatch(new RegExp(`^${network}@127\\.0\\.0\\.1:\\d+$`));
    });

    test.each(['msgpack', 'json', 'thrift'])('codec %s: Arith.Mul / Thrift.Mul 10×20', async (codec) => {
      expect(await scenario(codec)).toMatchObject({ ok: true, C: 200, pass: true });
    });

    test('protobuf: PB.Mul and the benchmark message echo', async () => {
      expect(await scenario('protobuf')).toMatchObject({ ok: true, C: 200, echoField1: 'OK', echoSameRest: true, pass: true });
    });

    test(
      'raw: Echo.Echo of 1 MiB',
      async () => {
        const r = await scenario('raw-1mib');
        expect(r).toMatchObject({ ok: true, length: 1 << 20, sha256Match: true });
        expect(r.sha256).toBe(sha256(mebibyte()));
      },
      bigTimeout + 10_000,
    );
  });

  describe(`TS client → Go rpcx server over ${network}`, () => {
    let go: GoServer;
    const clients: XClient[] = [];
    const client = (servicePath: string, options: Partial<XClientOptions> = {}) => {
      const c = new XClient({
        servicePath,
        discovery: peer2peer(go.key),
        transports: [o.transport()],
        codecs: allCodecs(),
        ...options,
      });
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      go = await startGoServer(['--network', network, ...(o.goServeArgs ?? [])]);
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await go?.stop();
    });

    test('the Go server announces the network', () => {
      expect(go.key).toMatch(new RegExp(`^${network}@127\\.0\\.0\\.1:\\d+$`));
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

    test(
      'raw: Echo.Echo of 1 MiB',
      async () => {
        const sent = mebibyte();
        const back = await client('Echo', { serializeType: SerializeType.None }).call<Uint8Array>('Echo', sent, { timeoutMs: bigTimeout });
        expect(back.length).toBe(sent.length);
        expect(sha256(back)).toBe(sha256(sent));
      },
      bigTimeout + 10_000,
    );
  });
}
