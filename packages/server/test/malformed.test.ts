// Bad input over real TCP: each malformed frame closes only the connection that sent it,
// with a typed error (logged by the server), while a healthy client on another connection
// keeps calling. Nothing hangs: every raw socket is seen closed.
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ProtocolError } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Message, encodeMessage } from '@rpcx/protocol';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';

const codec = msgpackCodec();
const good = () =>
  Buffer.from(encodeMessage(new Message({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq: 1, payload: codec.encode({ A: 2, B: 3 }) })));

/** Frames a broken or hostile peer might send, each with the error code the server reports. */
const cases: [string, () => Buffer, string][] = [
  ['bad magic number', () => Object.assign(good(), { 0: 0x47 }), 'RPCX_ERR_BAD_MAGIC'],
  [
    'service path length past the frame',
    () => {
      const b = good();
      b.writeUInt32BE(0xffff, 16);
      return b;
    },
    'RPCX_ERR_MALFORMED_FRAME',
  ],
  [
    'frame over the size limit (announced 1 GiB)',
    () => {
      const b = good().subarray(0, 16);
      b.writeUInt32BE(1 << 30, 12);
      return b;
    },
    'RPCX_ERR_MESSAGE_TOO_LONG',
  ],
  [
    'metadata that does not add up',
    () => {
      const m = new Message({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, metadata: { k: 'v' }, payload: codec.encode({}) });
      const b = Buffer.from(encodeMessage(m));
      b.writeUInt32BE(100, 16 + 4 + 5 + 4 + 3 + 4); // first key length → past the metadata block
      return b;
    },
    'RPCX_ERR_METADATA',
  ],
  [
    'gzip bomb (64 MiB of zeros in 64 KiB)',
    () => {
      const m = new Message({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3 });
      m.payload = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      const b = Buffer.from(encodeMessage(m));
      b[2] |= 1 << 2; // mark gzip without compressing twice
      return b;
    },
    'RPCX_ERR_DECOMPRESSED_TOO_LONG',
  ],
  [
    'metadata with more keys than maxMetadataKeys (2000, limit 1024)',
    () => {
      const metadata: Record<string, string> = {};
      for (let i = 0; i < 2000; i++) metadata[`k${i}`] = 'v';
      return Buffer.from(encodeMessage(new Message({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, metadata, payload: codec.encode({}) })));
    },
    'RPCX_ERR_METADATA_TOO_MANY_KEYS',
  ],
  [
    'a metadata block longer than maxMetadataLength (2 MiB, limit 1 MiB)',
    () => {
      const m = new Message({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, payload: codec.encode({}) });
      m.metadata.big = 'x'.repeat(2 * 1024 * 1024);
      return Buffer.from(encodeMessage(m));
    },
    'RPCX_ERR_METADATA_TOO_LONG',
  ],
  [
    'unknown compressor',
    () => {
      const b = good();
      b[2] |= 5 << 2;
      return b;
    },
    'RPCX_ERR_UNSUPPORTED_COMPRESSOR',
  ],
];

describe('malformed input over TCP', () => {
  const warnings: string[] = [];
  let server: Server;
  let client: XClient;
  let address: string;

  beforeAll(async () => {
    server = new Server({
      transports: [tcpTransport()],
      codecs: [codec],
      maxDecompressedLength: 1 << 20,
      logger: { debug() {}, info() {}, warn: (m: unknown) => void warnings.push(String(m)), error() {} },
      plugins: [
        {
          postReadRequest: (_c, _m, err) => {
            if (err) warnings.push(`code=${(err as ProtocolError).code}`);
          },
        },
      ],
    });
    await server.register({ Mul: (a: { A: number; B: number }) => ({ C: a.A * a.B }) }, { name: 'Arith' });
    address = (await server.listen('tcp', '127.0.0.1:0')).address;
    client = new XClient({ servicePath: 'Arith', discovery: peer2peer(`tcp@${address}`), transports: [tcpTransport()], codecs: [codec] });
    expect(await client.call('Mul', { A: 1, B: 1 })).toEqual({ C: 1 });
  });

  afterAll(async () => {
    await client.close();
    await server.close();
  });

  test.each(cases)('%s', async (_name, frame, code) => {
    warnings.length = 0;
    const socket: Socket = connect(Number(address.split(':')[1]), '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.write(frame());
    await closed;
    expect(warnings).toContain(`code=${code}`);
    // the healthy connection is untouched
    expect(await client.call('Mul', { A: 6, B: 7 })).toEqual({ C: 42 });
    expect(server.activeConnections()).toHaveLength(1);
  });

  test('a client receiving a malformed response gets a typed error carrying the protocol error', async () => {
    // A fake "server" that answers with an HTTP error instead of rpcx.
    const { createServer } = await import('node:net');
    let first = true;
    const fake = createServer((s) => {
      s.on('data', () => {
        if (first) {
          first = false;
          s.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
        }
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const port = (fake.address() as { port: number }).port;
    const c = new XClient({ servicePath: 'Arith', discovery: peer2peer(`tcp@127.0.0.1:${port}`), transports: [tcpTransport()], codecs: [codec] });
    const err = await c.call('Mul', { A: 1, B: 1 }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'RPCX_ERR_CONNECTION_LOST' });
    expect((err as Error).cause).toBeInstanceOf(ProtocolError);
    expect(((err as Error).cause as ProtocolError).message).toBe('wrong magic number: 72');
    await c.close();
    await new Promise<void>((r) => fake.close(() => r()));
  });
});
