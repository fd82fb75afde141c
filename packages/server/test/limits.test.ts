// Server-wide limits and what error replies may echo, over real TCP: maxConnections,
// maxBufferedBytes across connections (HTTP bodies: packages/server-http), the pre-auth frame limit
// (its typed error, and frames pipelined behind the first call), and an unknown-service reply
// that does not double its request.
import { MAX_ECHOED_NAME_LENGTH, MetaKey, type ProtocolError } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { FrameDecoder, type Message } from '@rpcx/protocol';
import { Server, type ServerOptions } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { destroyRawClients, frame, rawClient, sleep, waitUntil } from './hostile.js';

const codec = msgpackCodec();

let server: Server | undefined;
afterEach(async () => {
  destroyRawClients();
  await server?.close();
  server = undefined;
});

async function serve(options: ServerOptions = {}) {
  const warnings: string[] = [];
  const codes: string[] = [];
  server = new Server({
    transports: [tcpTransport()],
    codecs: [codec],
    logger: { debug() {}, info() {}, warn: (m: unknown) => void warnings.push(String(m)), error() {} },
    plugins: [{ postReadRequest: (_c, _m, err) => void (err && codes.push((err as ProtocolError).code)) }],
    ...options,
  });
  await server.register({ Mul: (a: { A: number; B: number }) => ({ C: a.A * a.B }) }, { name: 'Arith' });
  const address = (await server.listen('tcp', '127.0.0.1:0')).address;
  return { server, address, port: Number(address.split(':')[1]), warnings, codes };
}

const mul = (seq = 1, metadata: Record<string, string> = {}) =>
  frame({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq, metadata, payload: codec.encode({ A: 6, B: 7 }) });

test('maxConnections: the connection over the limit is closed at once, the others are served', async () => {
  const { port, address, warnings } = await serve({ maxConnections: 2 });
  const a = rawClient(port);
  const b = rawClient(port);
  expect(await waitUntil(() => server!.activeConnections().length === 2, 3000)).toBe(true);
  const c = rawClient(port);
  expect(await waitUntil(c.closed, 3000)).toBe(true);
  expect(warnings.join('\n')).toContain('too many connections: the server allows 2');
  a.socket.write(mul());
  b.socket.write(mul());
  expect(await waitUntil(() => a.data().length > 0 && b.data().length > 0, 3000)).toBe(true);
  // A closed slot is free again.
  a.socket.destroy();
  expect(await waitUntil(() => server!.activeConnections().length === 1, 3000)).toBe(true);
  const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(`tcp@${address}`), transports: [tcpTransport()], codecs: [codec] });
  expect(await client.call('Mul', { A: 2, B: 5 })).toEqual({ C: 10 });
  await client.close();
});

test('maxBufferedBytes: the partial frame that would pass the cap closes its connection only', async () => {
  const { port, warnings } = await serve({ maxBufferedBytes: 1 << 20 });
  const partial = (fill: number) => {
    const f = frame({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq: 1, payload: Buffer.alloc(2 << 20, fill) });
    return f.subarray(0, 700 * 1024);
  };
  const a = rawClient(port);
  a.socket.write(partial(1));
  expect(await waitUntil(() => server!.activeConnections().length === 1, 3000)).toBe(true);
  await sleep(100);
  const b = rawClient(port);
  b.socket.write(partial(2));
  expect(await waitUntil(b.closed, 3000)).toBe(true);
  expect(a.closed()).toBe(false);
  expect(warnings.join('\n')).toContain('server buffer full: incomplete requests would hold more than 1048576 bytes');
  // With a's bytes released, a new connection fits again.
  a.socket.destroy();
  await waitUntil(() => server!.activeConnections().length === 0, 3000);
  const c = rawClient(port);
  c.socket.write(partial(3));
  await sleep(200);
  expect(c.closed()).toBe(false);
});

test('with auth, a frame over maxPreAuthLength before the first call passed is UnauthenticatedMessageTooLongError', async () => {
  const { port, codes } = await serve({
    maxPreAuthLength: 64 * 1024,
    auth: (_ctx, token) => {
      if (token !== 'ok') throw new Error('unauthorized');
    },
  });
  const big = frame({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq: 1, metadata: { [MetaKey.Auth]: 'ok' }, payload: Buffer.alloc(100 * 1024) });
  const a = rawClient(port);
  a.socket.write(big.subarray(0, 16));
  expect(await waitUntil(a.closed, 3000)).toBe(true);
  expect(codes).toEqual(['RPCX_ERR_UNAUTHENTICATED_MESSAGE_TOO_LONG']);
  // After a first call has passed, the same frame is an ordinary (if useless) call.
  const b = rawClient(port);
  b.socket.write(Buffer.concat([mul(1, { [MetaKey.Auth]: 'ok' }), big]));
  expect(await waitUntil(() => replies(b.data()).length === 2, 3000)).toBe(true);
  expect(b.closed()).toBe(false);
});

test('frames pipelined behind the first call wait for its auth, then go on at full size', async () => {
  const { port } = await serve({
    maxPreAuthLength: 64 * 1024,
    auth: async (_ctx, token) => {
      await sleep(50);
      if (token !== 'ok') throw new Error('unauthorized');
    },
  });
  const big = frame({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq: 2, metadata: { [MetaKey.Auth]: 'ok' }, payload: Buffer.alloc(200 * 1024) });
  const a = rawClient(port);
  // One write: the big frame's prefix arrives before the first call is authorised.
  a.socket.write(Buffer.concat([mul(1, { [MetaKey.Auth]: 'ok' }), big, mul(3, { [MetaKey.Auth]: 'ok' })]));
  expect(await waitUntil(() => replies(a.data()).length === 3, 3000)).toBe(true);
  expect(replies(a.data()).map((m) => Number(m.seq))).toContain(3);
});

test('an unknown 256 KiB service path: the error text is cut, the reply not larger than the request plus that text', async () => {
  const { port } = await serve();
  const path = 'x'.repeat(256 * 1024);
  const request = frame({ servicePath: path, serviceMethod: 'Mul', serializeType: 3, seq: 7, payload: codec.encode({}) });
  const a = rawClient(port);
  a.socket.write(request);
  expect(await waitUntil(() => replies(a.data()).length === 1, 3000)).toBe(true);
  const [reply] = replies(a.data());
  const text = reply.metadata[MetaKey.ServiceError];
  expect(text).toBe(`rpcx: can't find service ${'x'.repeat(MAX_ECHOED_NAME_LENGTH)}...`);
  // The reply carries the path back in its header, as Go's does, but not twice (Go: ~2x).
  expect(a.data().length).toBeLessThanOrEqual(request.length + 512);
  // short names read exactly as Go's
  a.socket.write(frame({ servicePath: 'Nope', serviceMethod: 'Mul', serializeType: 3, seq: 8, payload: codec.encode({}) }));
  expect(await waitUntil(() => replies(a.data()).length === 2, 3000)).toBe(true);
  expect(replies(a.data())[1].metadata[MetaKey.ServiceError]).toBe("rpcx: can't find service Nope");
});

function replies(bytes: Buffer): Message[] {
  const out: Message[] = [];
  const decoder = new FrameDecoder({ maxMetadataLength: 0 });
  try {
    decoder.push(bytes, (m) => void out.push(m));
  } catch {
    // a partial stream: what decoded so far
  }
  return out;
}
