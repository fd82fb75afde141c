// Connections that stall or trickle are closed by the server's deadlines, each with its own
// typed reason, while another client keeps being served; legitimate slowness (a long call, a
// kept-alive HTTP connection between requests) is not. Small timeouts are configured here;
// the last tests check, on fake timers, that the defaults are on.
import { connect, type Socket } from 'node:net';
import { Server, type ServerOptions } from '@rpcx/server';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { memoryTransport } from '@rpcx/transport-memory';
import { tcpTransport } from '@rpcx/transport-tcp';
import { frame, nonReadingSocket, probe, sleep, waitUntil, type ProbeResult } from './hostile.js';

const codec = msgpackCodec();
/** The slowest call another client may see meanwhile. */
const LATENCY_BOUND_MS = 1000;

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

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

/** A raw connection that reads (and keeps) what the server sends and records when it closes. */
function rawClient(port: number) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  let closedAt: number | undefined;
  socket.on('close', () => (closedAt = Date.now()));
  return {
    socket,
    text: () => Buffer.concat(chunks).toString('latin1'),
    get closedAt() {
      return closedAt;
    },
  };
}

/** Write `pieces` one every `everyMs` until the server closes the connection (or they run out). */
async function trickle(socket: Socket, pieces: Buffer[], everyMs: number): Promise<number> {
  let sent = 0;
  for (const piece of pieces) {
    if (socket.destroyed) break;
    socket.write(piece);
    sent++;
    await sleep(everyMs);
  }
  return sent;
}

/** Run `attack` while a probe client calls; the probe must be served throughout. */
async function whileServed(address: string, attack: () => Promise<void>): Promise<ProbeResult> {
  const calls = probe(address);
  await attack();
  const r = await calls.stop();
  expect(r.failures).toBe(0);
  expect(r.calls).toBeGreaterThan(3);
  expect(r.maxMs).toBeLessThan(LATENCY_BOUND_MS);
  return r;
}

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

  test('an HTTP head that never ends, a line every 100 ms: 408 and closed', async () => {
    served = await serve({ http: { headersTimeoutMs: 400 } });
    await whileServed(served.address, async () => {
      const c = rawClient(served.port);
      const lines = [Buffer.from('POST /Arith HTTP/1.1\r\nHost: x\r\n'), ...Array.from({ length: 40 }, (_, i) => Buffer.from(`X-Slow-${i}: 1\r\n`))];
      const sent = await trickle(c.socket, lines, 100);
      expect(await waitUntil(() => c.closedAt !== undefined, 3000)).toBe(true);
      expect(sent).toBeLessThan(41);
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
    expect(served.closes.some((m) => m.includes('request head not completed within 400 ms'))).toBe(true);
  });

  test('an HTTP body trickled 100 bytes every 100 ms: 408 and closed by the request deadline', async () => {
    served = await serve({ http: { headersTimeoutMs: 300, requestTimeoutMs: 700 } });
    await whileServed(served.address, async () => {
      const c = rawClient(served.port);
      const head = Buffer.from(
        'POST /Arith HTTP/1.1\r\nHost: x\r\nX-RPCX-ServiceMethod: Mul\r\nX-RPCX-SerializeType: 3\r\nContent-Length: 100000\r\n\r\n',
      );
      const sent = await trickle(c.socket, [head, ...Array.from({ length: 60 }, () => Buffer.alloc(100, 0x20))], 100);
      expect(await waitUntil(() => c.closedAt !== undefined, 3000)).toBe(true);
      expect(sent).toBeLessThan(61);
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
    expect(served.closes.some((m) => m.includes('request not completed within 700 ms'))).toBe(true);
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
    const echo = frame({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq: 1, payload: codec.encode({ A: 1, B: 2 }) });
    const batch = Buffer.concat(Array.from({ length: 2000 }, () => echo));
    await whileServed(served.address, async () => {
      const socket = await nonReadingSocket(served.port);
      sockets.push(socket);
      // Writes until the server stops reading, then waits.
      for (let i = 0; i < 400 && socket.writableLength < 1 << 20; i++) {
        socket.write(batch);
        await sleep(5);
      }
      expect(await waitUntil(() => served.closes.some((m) => m.includes('write timeout')), 5000)).toBe(true);
      socket.destroy();
    });
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

  test('a kept-alive HTTP connection may wait longer than the head deadline between requests', async () => {
    served = await serve({ http: { headersTimeoutMs: 200, requestTimeoutMs: 300 } });
    const c = rawClient(served.port);
    const body = Buffer.from(codec.encode({ A: 6, B: 7 }));
    const request = Buffer.concat([
      Buffer.from(`POST /Arith HTTP/1.1\r\nHost: x\r\nX-RPCX-ServiceMethod: Mul\r\nX-RPCX-SerializeType: 3\r\nContent-Length: ${body.length}\r\n\r\n`),
      body,
    ]);
    c.socket.write(request);
    expect(await waitUntil(() => (c.text().match(/HTTP\/1\.1 200/g) ?? []).length === 1, 3000)).toBe(true);
    await sleep(600);
    c.socket.write(request);
    expect(await waitUntil(() => (c.text().match(/HTTP\/1\.1 200/g) ?? []).length === 2, 3000)).toBe(true);
    expect(c.closedAt).toBeUndefined();
    c.socket.destroy();
  });

  test('GET without a target is answered 400, as Go does', async () => {
    served = await serve();
    const c = rawClient(served.port);
    c.socket.write('GET\r\n\r\n');
    expect(await waitUntil(() => c.closedAt !== undefined, 3000)).toBe(true);
    expect(c.text()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});
