// The standalone gateway's limits: head and request deadlines (408), a client that never reads
// (bounded memory, measured in the gateway's own process, then closed by the write timeout),
// the cap on bodies being received, maxConnections, and the defaults it starts with. Another
// client must keep being served meanwhile.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { peer2peer } from '@rpcx/xclient';
import { createGateway, type Gateway, type GatewayHttpOptions } from '../src/index.js';
import {
  destroyRawClients,
  flood,
  nonReadingSocket,
  rawClient,
  sleep,
  startProcess,
  stopAllTargets,
  trickle,
  waitUntil,
  whileServed as whileServedBy,
} from '../../server/test/hostile.js';

const TIMEOUT = 60_000;
const here = path.dirname(fileURLToPath(import.meta.url));

let backend: Server;
let backendKey: string;
const gateways: Gateway[] = [];

beforeAll(async () => {
  backend = new Server({ transports: [tcpTransport()] });
  await backend.registerFunction('Echo', (payload: Uint8Array) => payload, { name: 'Say' });
  backendKey = `tcp@${(await backend.listen('tcp', '127.0.0.1:0')).address}`;
});

afterEach(async () => {
  destroyRawClients();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  stopAllTargets();
});

afterAll(async () => backend.close());

async function gateway(http: GatewayHttpOptions = {}): Promise<{ gw: Gateway; port: number }> {
  const gw = createGateway({ discovery: () => peer2peer(backendKey), transports: [tcpTransport()], http });
  gateways.push(gw);
  return { gw, port: (await gw.listen('127.0.0.1', 0)).port };
}

const echoHeaders = (length: number) =>
  `POST /Echo HTTP/1.1\r\nHost: x\r\nX-RPCX-ServiceMethod: Say\r\nX-RPCX-SerializeType: 0\r\nContent-Length: ${length}\r\n\r\n`;

/** One echo call on a fresh connection: whether it came back whole. */
function echoOnce(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from('ping');
    const req = http.request(
      { host: '127.0.0.1', port, path: '/Echo', method: 'POST', agent: false, headers: { 'X-RPCX-ServiceMethod': 'Say', 'X-RPCX-SerializeType': '0' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(res.statusCode === 200 && Buffer.concat(chunks).equals(body)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const whileServed = (port: number, attack: () => Promise<void>) => whileServedBy(() => echoOnce(port), attack);

test('an HTTP head that never ends, a line every 100 ms, gets 408 and is closed', async () => {
  const { port } = await gateway({ headersTimeoutMs: 400 });
  await whileServed(port, async () => {
    const c = rawClient(port);
    const lines = ['POST /Echo HTTP/1.1\r\nHost: x\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: 1\r\n`)];
    const sent = await trickle(c.socket, lines, 100);
    expect(await waitUntil(c.closed, 3000)).toBe(true);
    expect(sent).toBeLessThan(41);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });
}, TIMEOUT);

test('a body trickled 100 bytes every 100 ms gets 408 and is closed at the request deadline', async () => {
  const { port } = await gateway({ headersTimeoutMs: 300, requestTimeoutMs: 800 });
  await whileServed(port, async () => {
    const c = rawClient(port);
    const sent = await trickle(c.socket, [echoHeaders(100_000), ...Array.from({ length: 60 }, () => Buffer.alloc(100, 0x61))], 100);
    expect(await waitUntil(c.closed, 3000)).toBe(true);
    expect(sent).toBeLessThan(61);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });
}, TIMEOUT);

test('requests pipelined by a client that never reads: bounded memory, then the write timeout', async () => {
  const target = await startProcess(path.join(here, 'fixtures', 'gateway-target.ts'), { GATEWAY_HTTP: JSON.stringify({ writeTimeoutMs: 2000 }) });
  const body = Buffer.alloc(16 * 1024, 7);
  const request = Buffer.concat([Buffer.from(echoHeaders(body.length)), body]);
  const batch = Buffer.concat(Array.from({ length: 16 }, () => request));
  await echoOnce(target.port);
  const before = await target.memory();
  const socket = await nonReadingSocket(target.port);
  await whileServed(target.port, async () => {
    const sending = flood(socket, batch);
    await sleep(1500);
    const took = await sending.stop();
    // The gateway stopped reading long before: Node's parser waits while responses are unsent.
    expect(took).toBeLessThan(32 * 1024 * 1024);
    expect((await target.memory()) - before).toBeLessThan(48 * 1024 * 1024);
  });
  // And the connection goes once its response has waited 2 s.
  socket.resume();
  expect(await waitUntil(() => socket.destroyed, 10_000)).toBe(true);
  target.stop();
}, TIMEOUT);

test('bodies being received over maxBufferedBytes close the connection that passes it', async () => {
  const { port } = await gateway({ maxBufferedBytes: 1 << 20 });
  const a = rawClient(port);
  a.socket.write(echoHeaders(2 << 20));
  a.socket.write(Buffer.alloc(700 * 1024));
  await sleep(200);
  const b = rawClient(port);
  b.socket.write(echoHeaders(2 << 20));
  b.socket.write(Buffer.alloc(700 * 1024));
  expect(await waitUntil(b.closed, 3000)).toBe(true);
  expect(a.closed()).toBe(false);
  expect(await echoOnce(port)).toBe(true);
}, TIMEOUT);

test('maxConnections: connections over the limit are dropped', async () => {
  const { port } = await gateway({ maxConnections: 1 });
  const a = rawClient(port);
  await sleep(100);
  const b = rawClient(port);
  expect(await waitUntil(b.closed, 3000)).toBe(true);
  expect(a.closed()).toBe(false);
}, TIMEOUT);

test('the defaults: 60 s head and 300 s request deadlines, heads up to 1 MiB as in Go', async () => {
  const { gw, port } = await gateway();
  expect(gw.server.headersTimeout).toBe(60_000);
  expect(gw.server.requestTimeout).toBe(300_000);
  // 100 KiB of headers: over Node's 16 KiB default, under Go's 1 MiB.
  const c = rawClient(port);
  c.socket.write(`POST /Echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(100 * 1024)}\r\nX-RPCX-ServiceMethod: Say\r\nX-RPCX-SerializeType: 0\r\nContent-Length: 2\r\n\r\nhi`);
  expect(await waitUntil(() => c.text().includes('\r\n\r\nhi'), 3000)).toBe(true);
  expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
});
