// The reaping defaults are on without any option: on fake timers (the in-memory transport
// delivers through setImmediate, which stays real), a partial frame or a connection that sends
// nothing at 60 s, a connection silent after a call at 5 min, a peer that does not read its
// replies at 60 s of no progress (an unfinished HTTP head at 60 s: packages/server-http). Each
// just before its time is still open.
import { jest } from '@jest/globals';
import type { Connection } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { memoryTransport } from '@rpcx/transport-memory';
import { frame } from './hostile.js';

const codec = msgpackCodec();
const transport = memoryTransport();
const turn = () => new Promise((r) => setImmediate(r));

let server: Server;
let warnings: string[];
let address: string;
let n = 0;

beforeEach(async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
  warnings = [];
  server = new Server({
    transports: [transport],
    codecs: [codec],
    logger: { debug() {}, info() {}, warn: (m: unknown) => void warnings.push(String(m)), error() {} },
  });
  await server.registerFunction('Echo', (payload: Uint8Array) => payload, { name: 'Say' });
  address = `defaults-${++n}`;
  await server.listen('memu', address);
});

afterEach(async () => {
  jest.useRealTimers();
  await server.close();
});

async function dial(): Promise<{ connection: Connection; closed: () => boolean; received: () => string }> {
  const connection = await transport.dial('memu', address, {});
  let closed = false;
  let received = '';
  connection.setHandler({ onData: (d) => (received += Buffer.from(d).toString('latin1')), onClose: () => (closed = true) });
  await turn();
  return { connection, closed: () => closed, received: () => received };
}

/** Advance fake time by `ms`, letting the in-memory transport deliver in between. */
async function advance(ms: number): Promise<void> {
  jest.advanceTimersByTime(ms);
  for (let i = 0; i < 5; i++) await turn();
}

test('a frame begun and not completed is closed after 60 s', async () => {
  const c = await dial();
  c.connection.write(Buffer.from([0x08, 0]));
  await turn();
  await advance(59_000);
  expect(c.closed()).toBe(false);
  await advance(2_000);
  expect(c.closed()).toBe(true);
  expect(warnings.join('\n')).toContain('frame timeout: a frame was not completed within 60000 ms');
});

test('a connection that sends no frame is closed after 60 s', async () => {
  const c = await dial();
  await advance(59_000);
  expect(c.closed()).toBe(false);
  await advance(2_000);
  expect(c.closed()).toBe(true);
  expect(warnings.join('\n')).toContain('frame timeout: a frame was not completed within 60000 ms');
});

test('a connection silent after its call is closed after 5 minutes', async () => {
  const c = await dial();
  c.connection.write(frame({ servicePath: 'Echo', serviceMethod: 'Say', seq: 1, payload: Buffer.from('hi') }));
  await advance(0);
  await advance(299_000);
  expect(c.closed()).toBe(false);
  await advance(2_000);
  expect(c.closed()).toBe(true);
  expect(warnings.join('\n')).toContain('idle timeout: nothing received for 300000 ms');
});

test('replies a peer does not read are closed after 60 s without progress', async () => {
  const c = await dial();
  c.connection.pauseReading();
  c.connection.write(frame({ servicePath: 'Echo', serviceMethod: 'Say', seq: 1, payload: Buffer.alloc(2 << 20, 1) }));
  await advance(0);
  expect(server.activeConnections()[0].pendingBytes).toBeGreaterThan(2 << 20);
  await advance(59_000);
  expect(c.closed()).toBe(false);
  // checked every quarter of the timeout: closed within 60-75 s
  await advance(16_000);
  expect(c.closed()).toBe(true);
  expect(warnings.join('\n')).toContain('write timeout: unsent bytes made no progress for 60000 ms');
});
