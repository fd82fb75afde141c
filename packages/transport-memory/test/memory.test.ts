// The in-process transport's reading control: a paused end holds what arrives and holds the
// writer back, as a socket whose reader stopped would; resuming delivers it and drains.
import { DRAIN_NOTICE_BYTES, type Connection } from '@rpcx/core';
import { memoryTransport } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pair(name: string) {
  const transport = memoryTransport();
  let accepted!: (c: Connection) => void;
  const serverSide = new Promise<Connection>((resolve) => (accepted = resolve));
  const listener = await transport.listen('memu', name, {}, (c) => accepted(c));
  const client = await transport.dial('memu', name, {});
  const server = await serverSide;
  const received: Buffer[] = [];
  const drains: number[] = [];
  server.setHandler({ onData: (c) => void received.push(Buffer.from(c)), onClose: () => {} });
  client.setHandler({ onData: () => {}, onClose: () => {}, onDrain: () => void drains.push(client.pendingBytes) });
  return { listener, client, server, received, drains };
}

test('a paused end holds the bytes on the writer, then takes them all on resume and the writer drains', async () => {
  const { listener, client, server, received, drains } = await pair('memory-backpressure');
  server.pauseReading();
  const parts = [Buffer.alloc(100_000, 1), Buffer.from('tail')];
  for (const p of parts) client.write(p);
  await sleep(30);
  expect(received).toHaveLength(0);
  expect(client.pendingBytes).toBe(100_004);
  expect(drains).toEqual([]);
  server.resumeReading();
  const deadline = Date.now() + 2000;
  while (received.length === 0 && Date.now() < deadline) await sleep(5);
  expect(Buffer.concat(received).equals(Buffer.concat(parts))).toBe(true);
  expect(client.pendingBytes).toBe(0);
  expect(drains).toEqual([0]);
  // below DRAIN_NOTICE_BYTES nothing is owed
  client.write(Buffer.alloc(DRAIN_NOTICE_BYTES - 1));
  await sleep(30);
  expect(drains).toEqual([0]);
  client.destroy();
  await listener.close();
});
