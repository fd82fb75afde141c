// The in-process transport: the transport compliance suite, and what is its own (reading
// control that holds the writer back, no sockets, errors in Go's words).
import { ConfigError, DRAIN_NOTICE_BYTES, type Connection } from '@rpcx/core';
import { Recorder, sleep, transportCompliance, waitUntil } from '@rpcx/transport-kit/testing';
import { memoryTransport } from '../src/index.js';

let names = 0;
const freshName = () => `memory-test-${process.pid}-${++names}`;

transportCompliance({
  name: 'memu',
  transport: () => memoryTransport(),
  network: 'memu',
  listenAddress: freshName,
  refusedAddress: freshName,
  // Nothing sits between the two ends: a paused reader holds the whole write on the writer.
  backpressureBytes: 4 << 20,
});

async function pair(name = freshName()) {
  const transport = memoryTransport();
  let accepted!: (c: Connection) => void;
  const serverSide = new Promise<Connection>((resolve) => (accepted = resolve));
  const listener = await transport.listen('memu', name, (c) => accepted(c));
  const client = await transport.dial('memu', name);
  const server = await serverSide;
  return { transport, listener, client, server };
}

describe('memoryTransport specifics', () => {
  test('a paused end holds the bytes on the writer, then takes them all on resume and the writer drains', async () => {
    const { listener, client, server: serverConnection } = await pair();
    const server = new Recorder(serverConnection);
    const drains = new Recorder(client).drains;
    serverConnection.pauseReading();
    const parts = [Buffer.alloc(100_000, 1), Buffer.from('tail')];
    for (const p of parts) client.write(p);
    await sleep(30);
    expect(server.received).toBe(0);
    expect(client.pendingBytes).toBe(100_004);
    expect(drains).toEqual([]);
    serverConnection.resumeReading();
    await server.waitFor(100_004);
    expect(server.data().equals(Buffer.concat(parts))).toBe(true);
    expect(client.pendingBytes).toBe(0);
    expect(drains).toEqual([0]);
    // below DRAIN_NOTICE_BYTES nothing is owed
    client.write(Buffer.alloc(DRAIN_NOTICE_BYTES - 1));
    await server.waitFor(100_004 + DRAIN_NOTICE_BYTES - 1);
    expect(drains).toEqual([0]);
    client.destroy();
    await listener.close();
  });

  test('an end without a handler holds the writer back too, and close() waits for the reader', async () => {
    const { listener, client, server } = await pair();
    client.write(Buffer.from('before the handler'));
    const closing = client.close();
    await sleep(30);
    expect(client.pendingBytes).toBe(18);
    const recorder = new Recorder(server);
    await closing;
    expect(recorder.data().toString()).toBe('before the handler');
    expect(await recorder.closed).toBeUndefined();
    await listener.close();
  });

  test('close() gives up on a reader that never reads after closeTimeoutMs', async () => {
    const transport = memoryTransport({ closeTimeoutMs: 100 });
    const name = freshName();
    let accepted!: (c: Connection) => void;
    const serverSide = new Promise<Connection>((resolve) => (accepted = resolve));
    const listener = await transport.listen('memu', name, (c) => accepted(c));
    const client = new Recorder(await transport.dial('memu', name));
    const server = new Recorder(await serverSide);
    server.connection.pauseReading();
    client.connection.write(Buffer.from('never read'));
    const started = Date.now();
    await client.connection.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await server.closed;
    expect(server.received).toBe(0);
    await listener.close();
  });

  test('a second listen on a name is a ListenError; a dial to a name nobody listens on is a DialError', async () => {
    const { listener } = await pair('memory-in-use');
    await expect(memoryTransport().listen('memu', 'memory-in-use', () => {})).rejects.toMatchObject({
      code: 'RPCX_ERR_LISTEN',
      message: 'listen memu memory-in-use: address already in use',
    });
    await listener.close();
    await expect(memoryTransport().dial('memu', 'memory-in-use')).rejects.toMatchObject({
      code: 'RPCX_ERR_DIAL',
      message: 'dial memu memory-in-use: connection refused',
    });
  });

  test('the names of both ends, and the network, as Go shows them', async () => {
    const { listener, client, server } = await pair('memory-names');
    expect([client.network, client.remoteAddress]).toEqual(['memu', 'memory-names']);
    expect(server.localAddress).toBe('memory-names');
    expect(server.remoteAddress).toBe(client.localAddress);
    client.destroy();
    await waitUntil(() => server.closed, 2000, 'the server end sees the close');
    await listener.close();
  });

  test('other networks are refused, and setHandler twice is a ConfigError', async () => {
    await expect(memoryTransport().listen('tcp', 'x', () => {})).rejects.toMatchObject({ code: 'RPCX_ERR_UNSUPPORTED' });
    const { listener, client } = await pair();
    client.setHandler({ onData() {}, onClose() {} });
    expect(() => client.setHandler({ onData() {}, onClose() {} })).toThrow(ConfigError);
    client.destroy();
    await listener.close();
  });
});
