// Connections that stall or trickle are closed by the server's deadlines, each with its own
// typed reason, while another client keeps being served; legitimate slowness (a long call) is
// not. Small timeouts are configured here; defaults.test.ts checks, on fake timers, that the
// defaults are on. The same deadlines on HTTP connections: packages/server-http/test/connection-limits.test.ts.
import { Server, type ServerOptions } from '@rpcx/server';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { tcpTransport } from '@rpcx/transport-tcp';
import { destroyRawClients, frame, nonReadingSocket, rawClient, sleep, trickle, waitUntil, whileServed } from './hostile.js';

const codec = msgpackCodec();
const FILL = 'x'.repeat(64 * 1024);

interface Served {
  server: Server;
  port: number;
  address: string;
  /** The reasons connections were closed for, as the server logged them. */
  closes: string[];
}

async function serve(options: ServerOptions = {}): Promise<Served> {
  const closes: string[] = [];
  const server = new Server({
    transports: [tcpTransport()],
    codecs: [codec],
    logger: { debug() {}, info() {}, warn: (m: unknown) => void closes.push(String(m)), error() {} },
    ...options,
  });
  await server.register(
    {
      Mul: (a: { A: number; B: number }) => ({ C: a.A * a.B }),
      // 64 KiB replies fill a non-reading client's socket buffers in a few hundred calls.
      Fill: () => ({ S: FILL }),
      Slow: async (a: { ms: number }) => {
        await sleep(a.ms);
        return { C: a.ms };
      },
    },
    { name: 'Arith' },
  );
  const address = (await server.listen('tcp', '127.0.0.1:0')).address;
  return { server, port: Number(address.split(':')[1]), address, closes };
}

afterEach(destroyRawClients);

const bytes = (n: number) => Array.from({ length: n }, () => Buffer.from([0]));

describe('deadlines close stalled and trickling connections', () => {
  let served: Served;
  afterEach(async () => served.server.close());

  test('one byte of an rpcx header, then a byte every 100 ms: closed by the frame deadline', async () => {
    served = await serve({ frameTimeoutMs: 400 });
    await whileServed(served.address, async () => {
      const c = rawClient(served.port);
      const started = Date.now();
      // The magic byte, then 15 more header bytes far apart: activity, but no frame.
      const sent = await trickle(c.socket, [Buffer.from([0x08]), ...bytes(40)], 100);
      expect(await waitUntil(() => c.closedAt !== undefined, 3000)).toBe(true);
      expect(c.closedAt! - started).toBeGreaterThanOrEqual(350);
      expect(sent).toBeLessThan(41);
    });
    expect(served.closes.some((m) => m.includes('frame timeout'))).toBe(true);
  });

  test('a header announcing 60 MiB, then 64 KiB every 100 ms: closed by the frame deadline', async () => {
    served = await serve({ frameTimeoutMs: 500 });
    await whileServed(served.address, async () => {
      const c = rawClient(served.port);
      const header = frame({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq: 1 }).subarray(0, 16);
      header.writeUInt32BE(60 * 1024 * 1024, 12);
      const sent = await trickle(c.socket, [header, ...Array.from({ length: 100 }, () => Buffer.alloc(64 * 1024))], 100);
      expect(await waitUntil(() => c.closedAt !== undefined, 3000)).toBe(true);
      // far from the 960 pieces the frame would need
      expect(sent).toBeLessThan(30);
    });
    expect(served.closes.some((m) => m.includes('frame timeout'))).toBe(true);
  });

  test('a connection that sends nothing is closed when its first frame is due', async () => {
    served = await serve({ frameTimeoutMs: 300 });
    await whileServed(served.address, async () => {
      const c = rawClient(served.port);
      expect(await waitUntil(() => c.closedAt !== undefined, 3000)).toBe(true);
    });
    expect(served.closes.some((m) => m.includes('frame timeout'))).toBe(true);
  });

  test('a connection that goes quiet after its calls is closed by the idle timeout', async () => {
    served = await serve({ idleTimeoutMs: 300 });
    await whileServed(served.address, async () => {
      const c = rawClient(served.port);
      c.socket.write(frame({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq: 1, payload: codec.encode({ A: 1, B: 2 }) }));
      expect(await waitUntil(() => c.closedAt !== undefined, 3000)).toBe(true);
      expect(c.text().length).toBeGreaterThan(0);
    });
    expect(served.closes.some((m) => m.includes('idle timeout'))).toBe(true);
  });

  test('a client that never reads its replies is closed by the write timeout', async () => {
    served = await serve({ writeTimeoutMs: 400 });
    const fill = frame({ servicePath: 'Arith', serviceMethod: 'Fill', serializeType: 3, seq: 1, payload: codec.encode({}) });
    const batch = Buffer.concat(Array.from({ length: 50 }, () => fill));
    // Loopback socket buffers grow to megabytes, so the server answers a few hundred calls
    // before its writes stall; then the write timeout closes the connection. The probe's
    // calls share the server with those answers on a loaded machine: a 3 s bound.
    await whileServed(
      served.address,
      async () => {
        const socket = await nonReadingSocket(served.port);
        // Writes until the server stops reading, then waits.
        const closed = () => served.closes.some((m) => m.includes('write timeout'));
        for (let i = 0; i < 400 && !closed() && socket.writableLength < 1 << 20; i++) {
          socket.write(batch);
          await sleep(5);
        }
        expect(await waitUntil(closed, 5000)).toBe(true);
        socket.destroy();
      },
      3000,
    );
  });
});

describe('legitimate slowness is left alone', () => {
  let served: Served;
  afterEach(async () => served.server.close());

  test('a call longer than the idle timeout is answered on its quiet connection', async () => {
    served = await serve({ idleTimeoutMs: 200 });
    const { XClient, peer2peer } = await import('@rpcx/xclient');
    const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(`tcp@${served.address}`), transports: [tcpTransport()], codecs: [codec] });
    try {
      expect(await client.call('Slow', { ms: 700 })).toEqual({ C: 700 });
      expect(served.closes).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
