// gatewayCall's failures are catalogue errors: a refused connection is a GatewayError, an
// aborted call an AbortError whose cause is the signal's reason (not fetch's DOMException).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbortError, GatewayError } from '@rpcx/core';
import { gatewayCall } from '../src/index.js';

let server: Server;
let base: string;
const held: (() => void)[] = [];

beforeAll(async () => {
  // Takes the request and never answers until the test ends.
  server = createServer((_req, res) => held.push(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const release of held) release();
  await new Promise((resolve) => server.close(resolve));
});

test('an aborted call rejects with AbortError carrying the reason', async () => {
  const controller = new AbortController();
  const call = gatewayCall(base, 'Arith', 'Mul', '{}', { signal: controller.signal });
  const reason = new Error('user gave up');
  setTimeout(() => controller.abort(reason), 50);
  const err = await call.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AbortError);
  expect((err as AbortError).cause).toBe(reason);
});

test('a refused connection rejects with GatewayError', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await expect(gatewayCall(`http://127.0.0.1:${port}`, 'Arith', 'Mul', '{}')).rejects.toBeInstanceOf(GatewayError);
});
