// The server's connection limits hold on connections the HTTP side took over, as on rpcx ones:
// the head and request deadlines (408), the byte budget for bodies being read, back-pressure
// on a client that pipelines requests and never reads, and the 60 s head deadline by default.
// Legitimate slowness (a kept-alive connection between requests) is left alone.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import type { Connection } from '@rpcx/core';
import { Server, type ServerOptions } from '@rpcx/server';
import { memoryTransport } from '@rpcx/transport-memory';
import { tcpTransport } from '@rpcx/transport-tcp';
import {
  attackWithNonReader,
  destroyRawClients,
  expectServed,
  rawClient,
  sleep,
  startProcess,
  stopAllTargets,
  trickle,
  waitUntil,
  whileServed,
} from '../../server/test/hostile.js';
import { httpGateway, type HttpGatewayOptions } from '../src/index.js';

const codec = msgpackCodec();
const here = path.dirname(fileURLToPath(import.meta.url));

let server: Server | undefined;
afterEach(async () => {
  destroyRawClients();
  stopAllTargets();
  await server?.close();
  server = undefined;
});

/** Arith on 127.0.0.1:0 with the HTTP side; `warnings` gets what the server logged (why it closed connections). */
async function serve(http: HttpGatewayOptions = {}, options: ServerOptions = {}) {
  const warnings: string[] = [];
  server = new Server({
    transports: [tcpTransport()],
    codecs: [codec],
    logger: { debug() {}, info() {}, warn: (m: unknown) => void warnings.push(String(m)), error() {} },
    http: httpGateway(http),
    ...options,
  });
  await server.register({ Mul: (a: { A: number; B: number }) => ({ C: a.A * a.B }) }, { name: 'Arith' });
  const address = (await server.listen('tcp', '127.0.0.1:0')).address;
  return { address, port: Number(address.split(':')[1]), warnings };
}

const mulHead = (length: number) =>
  `POST /Arith HTTP/1.1\r\nHost: x\r\nX-RPCX-ServiceMethod: Mul\r\nX-RPCX-SerializeType: 3\r\nContent-Length: ${length}\r\n\r\n`;

describe('deadlines', () => {
  test('an HTTP head that never ends, a line every 100 ms: 408 and closed', async () => {
    const { address, port, warnings } = await serve({ headersTimeoutMs: 400 });
    await whileServed(address, async () => {
      const c = rawClient(port);
      const lines = [Buffer.from('POST /Arith HTTP/1.1\r\nHost: x\r\n'), ...Array.from({ length: 40 }, (_, i) => Buffer.from(`X-Slow-${i}: 1\r\n`))];
      const sent = await trickle(c.socket, lines, 100);
      expect(await waitUntil(c.closed, 3000)).toBe(true);
      expect(sent).toBeLessThan(41);
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
    expect(warnings.some((m) => m.includes('request head not completed within 400 ms'))).toBe(true);
  });

  test('an HTTP body trickled 100 bytes every 100 ms: 408 and closed by the request deadline', async () => {
    const { address, port, warnings } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 700 });
    await whileServed(address, async () => {
      const c = rawClient(port);
      const sent = await trickle(c.socket, [Buffer.from(mulHead(100_000)), ...Array.from({ length: 60 }, () => Buffer.alloc(100, 0x20))], 100);
      expect(await waitUntil(c.closed, 3000)).toBe(true);
      expect(sent).toBeLessThan(61);
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
    expect(warnings.some((m) => m.includes('request not completed within 700 ms'))).toBe(true);
  });

  test('a kept-alive HTTP connection may wait longer than the head deadline between requests', async () => {
    const { port } = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 300 });
    const c = rawClient(port);
    const body = Buffer.from(codec.encode({ A: 6, B: 7 }));
    const request = Buffer.concat([Buffer.from(mulHead(body.length)), body]);
    c.socket.write(request);
    expect(await waitUntil(() => (c.text().match(/HTTP\/1\.1 200/g) ?? []).length === 1, 3000)).toBe(true);
    await sleep(600);
    c.socket.write(request);
    expect(await waitUntil(() => (c.text().match(/HTTP\/1\.1 200/g) ?? []).length === 2, 3000)).toBe(true);
    expect(c.closed()).toBe(false);
  });

  test('GET without a target is answered 400, as Go does', async () => {
    const { port } = await serve();
    const c = rawClient(port);
    c.socket.write('GET\r\n\r\n');
    expect(await waitUntil(c.closed, 3000)).toBe(true);
    expect(c.text()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});

test('maxBufferedBytes counts HTTP bodies being received too', async () => {
  const { port, warnings } = await serve({}, { maxBufferedBytes: 1 << 20 });
  const a = rawClient(port);
  a.socket.write(Buffer.concat([Buffer.from(mulHead(2 << 20)), Buffer.alloc(700 * 1024)]));
  await sleep(200);
  const b = rawClient(port);
  b.socket.write(Buffer.concat([Buffer.from(mulHead(2 << 20)), Buffer.alloc(700 * 1024)]));
  expect(await waitUntil(b.closed, 3000)).toBe(true);
  expect(a.closed()).toBe(false);
  expect(warnings.join('\n')).toContain('server buffer full');
});

test('HTTP requests pipelined by a client that never reads: reading stops, memory stays bounded', async () => {
  const target = await startProcess(path.join(here, 'fixtures', 'http-target.ts'), {});
  const body = Buffer.alloc(16 * 1024, 7);
  const request = Buffer.concat([
    Buffer.from(`POST /Echo HTTP/1.1\r\nHost: target\r\nX-RPCX-ServiceMethod: Say\r\nX-RPCX-SerializeType: 0\r\nContent-Length: ${body.length}\r\n\r\n`),
    body,
  ]);
  const batch = Buffer.concat(Array.from({ length: 16 }, () => request));
  const r = await attackWithNonReader(target, () => batch);
  expect(r.growth).toBeLessThan(48 * 1024 * 1024);
  // the server stopped taking requests long before the attacker ran out of them
  expect(r.took).toBeLessThan(64 * 1024 * 1024);
  expectServed(r);
}, 60_000);

describe('the default head deadline, on fake timers', () => {
  // The in-memory transport delivers through setImmediate, which stays real.
  const turn = () => new Promise((r) => setImmediate(r));
  afterEach(() => jest.useRealTimers());

  test('an HTTP request head not completed is answered 408 and closed after 60 s', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    const warnings: string[] = [];
    const transport = memoryTransport();
    server = new Server({
      transports: [transport],
      logger: { debug() {}, info() {}, warn: (m: unknown) => void warnings.push(String(m)), error() {} },
      http: httpGateway({ networks: ['memu'] }),
    });
    await server.listen('memu', 'http-defaults');
    const connection: Connection = await transport.dial('memu', 'http-defaults', {});
    let closed = false;
    let received = '';
    connection.setHandler({ onData: (d) => (received += Buffer.from(d).toString('latin1')), onClose: () => (closed = true) });
    const advance = async (ms: number) => {
      jest.advanceTimersByTime(ms);
      for (let i = 0; i < 5; i++) await turn();
    };
    connection.write(Buffer.from('POST /Echo HTTP/1.1\r\nHost: x\r\n'));
    await turn();
    await advance(59_000);
    expect(closed).toBe(false);
    await advance(2_000);
    expect(closed).toBe(true);
    expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(warnings.join('\n')).toContain('http: request head not completed within 60000 ms');
  });
});
