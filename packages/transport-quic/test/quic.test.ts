import dgram from 'node:dgram';
import { jest } from '@jest/globals';
import { QUICClient, errors as quicErrors } from '@matrixai/quic';
import { ConfigError, UnsupportedError, type Connection, type DialOptions } from '@rpcx/core';
import { Recorder, refusedUdpAddress, selfSigned, silentUdpServer, sleep, transportCompliance } from '@rpcx/transport-kit/testing';
import { quicTransport, serverInitialKeys, type QuicTransport } from '../src/index.js';

// The 8 MiB each-way test moves 16 MiB through one process at 1-3 MiB/s (see README);
// on a loaded 2-core machine that can come near jest's default 30 s.
jest.setTimeout(90_000);

const { key, cert } = selfSigned();
const serverTls = { key, cert };

transportCompliance({
  name: 'quic 127.0.0.1',
  transport: () => quicTransport({ serverTls }),
  network: 'quic',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedUdpAddress('127.0.0.1'),
  // A UDP socket that never answers: the handshake never completes.
  stalledAddress: () => silentUdpServer('127.0.0.1'),
  // Three times the stream's 1 MiB flow-control window (@matrixai/quic's default); small,
  // as QUIC moves 0.4-3 MiB/s here.
  backpressureBytes: 3 << 20,
  // 8 MiB each way takes 10 s on an idle 2-core box and three times that under load.
  testTimeoutMs: 90_000,
});

describe('quicTransport specifics', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  async function listen(onConnection: (c: Connection) => void = () => {}, transport: QuicTransport = quicTransport({ serverTls })) {
    const listener = await transport.listen('quic', '127.0.0.1:0', (c) => {
      cleanups.push(() => c.destroy());
      onConnection(c);
    });
    cleanups.push(() => listener.close());
    return listener;
  }
  async function dial(address: string, transport: QuicTransport = quicTransport()) {
    const c = await transport.dial('quic', address);
    cleanups.push(() => c.destroy());
    return c;
  }
  const dialError = (address: string, transport: QuicTransport = quicTransport(), options: DialOptions = {}) =>
    transport.dial('quic', address, options).then(
      (c) => {
        c.destroy();
        return undefined;
      },
      (e: Error) => e,
    );

  it('serves quic only, and listening needs a certificate, as Go', async () => {
    const t = quicTransport();
    expect(t.networks).toEqual(['quic']);
    await expect(t.listen('tcp', '127.0.0.1:0', () => {})).rejects.toBeInstanceOf(UnsupportedError);
    await expect(t.dial('kcp', '127.0.0.1:1')).rejects.toBeInstanceOf(UnsupportedError);
    await expect(t.listen('quic', '127.0.0.1:0', () => {})).rejects.toThrow(/TLSConfig must be configured/);
    await expect(quicTransport({ serverTls }).listen('quic', 'no-port', () => {})).rejects.toBeInstanceOf(ConfigError);
    await expect(quicTransport({ clientTls: { ALPNProtocols: [] } }).dial('quic', '127.0.0.1:1')).rejects.toBeInstanceOf(ConfigError);
    expect(() => quicTransport({ maxIdleTimeoutMs: 100, keepAliveIntervalMs: 100 })).toThrow(ConfigError);
  });

  it("reports a port in use as Go's listen error", async () => {
    const listener = await listen();
    const error = await quicTransport({ serverTls })
      .listen('quic', listener.address, () => {})
      .catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ListenError', code: 'RPCX_ERR_LISTEN' });
    expect((error as Error).message).toBe(`listen udp ${listener.address}: bind: address already in use`);
  });

  it('a dead port is refused at once (ICMP), not after a handshake timeout', async () => {
    const address = await refusedUdpAddress();
    const started = Date.now();
    const error = await dialError(address, quicTransport(), { timeoutMs: 5000 });
    expect(error).toMatchObject({ name: 'DialError', code: 'RPCX_ERR_DIAL', message: `dial quic ${address}: connection refused` });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a closed listener with open connections answers new clients CONNECTION_REFUSED', async () => {
    let accepted!: (r: Recorder) => void;
    const server = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await listen((c) => accepted(new Recorder(c)));
    const open = new Recorder(await dial(listener.address));
    open.connection.write(Buffer.from('hi'));
    await (await server).waitFor(2);
    await listener.close();
    const started = Date.now();
    const error = await dialError(listener.address, quicTransport(), { timeoutMs: 5000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toMatchObject({ code: 'RPCX_ERR_DIAL', message: `dial quic ${listener.address}: connection refused` });
    const cause = (error as Error).cause as { data?: { isApp: boolean; errorCode: number } };
    expect(cause).toBeInstanceOf(quicErrors.ErrorQUICConnectionPeer);
    expect(cause.data).toMatchObject({ isApp: false, errorCode: 0x02 });
    // The open connection still works.
    (await server).connection.write(Buffer.from('still'));
    await open.waitFor(5);
  });

  it('derives the Initial keys of RFC 9001 appendix A', () => {
    const keys = serverInitialKeys(Buffer.from('8394c8f03e515708', 'hex'));
    expect(keys.key.toString('hex')).toBe('cf3a5331653c364c88f0f379b6067e37');
    expect(keys.iv.toString('hex')).toBe('0ac1493ca1905853b0bba03e');
    expect(keys.hp.toString('hex')).toBe('c206b8d9b9f0f37644430b490eeaa314');
  });

  it('offers ALPN rpcx; a server with another protocol refuses the handshake', async () => {
    const listener = await listen(() => {}, quicTransport({ serverTls: { key, cert, ALPNProtocols: ['h3'] } }));
    const error = await dialError(listener.address);
    expect(error).toMatchObject({ code: 'RPCX_ERR_DIAL' });
    expect((error as Error).message).toBe(`dial quic ${listener.address}: CRYPTO_ERROR 0x178 (remote): tls: no application protocol`);
    await dial(listener.address, quicTransport({ clientTls: { ALPNProtocols: ['h3'], rejectUnauthorized: false } }));
  });

  it("verifies the server certificate once clientTls is given (IP and DNS names), and skips it without, as Go's client", async () => {
    const listener = await listen();
    const port = listener.address.split(':')[1];
    // Without clientTls: no check (Go: InsecureSkipVerify when Option.TLSConfig is nil).
    await dial(listener.address);
    await dial(listener.address, quicTransport({ clientTls: { ca: cert } }));
    await dial(`localhost:${port}`, quicTransport({ clientTls: { ca: cert } }));
    await dial(listener.address, quicTransport({ clientTls: { rejectUnauthorized: false } }));
    const wrongName = await dialError(listener.address, quicTransport({ clientTls: { ca: cert, servername: 'example.com' } }));
    expect((wrongName as Error).message).toMatch(new RegExp(`^dial quic ${listener.address}: tls: .*example\\.com`));
    const unknownCa = await dialError(listener.address, quicTransport({ clientTls: {} }));
    expect((unknownCa as Error).message).toBe(`dial quic ${listener.address}: tls: unable to verify the first certificate`);
  });

  it('the server has the connection before the client writes; its early writes wait for the stream', async () => {
    let accepted!: (c: Connection) => void;
    const serverSide = new Promise<Connection>((resolve) => (accepted = resolve));
    const listener = await listen(accepted);
    const client = new Recorder(await dial(listener.address));
    const server = new Recorder(await serverSide);
    // No stream exists yet: QUIC makes one visible to the server with its first bytes.
    server.connection.write(Buffer.from('pushed early'));
    expect(server.connection.pendingBytes).toBe(12);
    await sleep(100);
    expect(client.received).toBe(0);
    client.connection.write(Buffer.from('hello'));
    await Promise.all([server.waitFor(5), client.waitFor(12)]);
    expect(client.data().toString()).toBe('pushed early');
    expect(server.data().toString()).toBe('hello');
    expect(server.connection.remoteAddress).toBe(client.connection.localAddress);
  });

  it('on loopback, the frames written in one turn leave in one or two datagrams, not one per 1350 bytes', async () => {
    let accepted!: (c: Connection) => void;
    const serverSide = new Promise<Connection>((resolve) => (accepted = resolve));
    const listener = await listen(accepted);
    const client = new Recorder(await dial(listener.address));
    client.connection.write(Buffer.from('hello'));
    const server = new Recorder(await serverSide);
    await server.waitFor(5);
    const clientPort = Number(client.connection.localAddress.split(':').pop());
    let datagrams = 0;
    const portOf = (socket: dgram.Socket) => {
      try {
        return socket.address().port;
      } catch {
        return undefined; // not bound or already closed
      }
    };
    // Counts the client's datagrams (its UDP socket's port), whoever sends them.
    const original = dgram.Socket.prototype.send;
    cleanups.push(() => (dgram.Socket.prototype.send = original));
    dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
      if (portOf(this) === clientPort) datagrams++;
      return (original as (...a: unknown[]) => void).apply(this, args);
    } as typeof original;
    // Sixteen 600-byte frames, as sixteen calls in flight write them: 9,600 bytes.
    for (let i = 0; i < 16; i++) client.connection.write(Buffer.alloc(600, i));
    await server.waitFor(5 + 16 * 600);
    dgram.Socket.prototype.send = original;
    expect(datagrams).toBeGreaterThanOrEqual(1);
    expect(datagrams).toBeLessThanOrEqual(2);
  });

  it('a peer that only ends its stream (as Go does) gets its FIN back, and the connection closes after closeTimeoutMs', async () => {
    let accepted!: (r: Recorder) => void;
    const serverSide = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await listen((c) => accepted(new Recorder(c)), quicTransport({ serverTls, closeTimeoutMs: 300 }));
    const [host, port] = listener.address.split(':');
    const raw = await QUICClient.createQUICClient({
      host,
      port: Number(port),
      localHost: '127.0.0.1',
      crypto: { ops: { randomBytes: async (b: ArrayBuffer) => void crypto.getRandomValues(new Uint8Array(b)) } },
      config: { applicationProtos: ['rpcx'], verifyPeer: false },
    });
    cleanups.push(() => raw.destroy({ force: true }));
    const stream = raw.connection.newStream('bidi');
    const writer = stream.writable.getWriter();
    await writer.write(Buffer.from('ping'));
    await writer.close();
    const server = await serverSide;
    expect(await server.closed).toBeUndefined();
    expect(server.data().toString()).toBe('ping');
    // Our FIN arrives: the raw client reads to the end.
    const reader = stream.readable.getReader();
    expect((await reader.read()).done).toBe(true);
    // Nobody closes the connection from that side; ours does, cleanly (application code 0).
    const started = Date.now();
    await raw.closedP;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(raw.connection.getConnectionError()).toMatchObject({ isApp: true, errorCode: 0 });
  });

  it('an idle connection times out after maxIdleTimeoutMs unless keep-alive is on', async () => {
    const transport = quicTransport({ serverTls, maxIdleTimeoutMs: 400 });
    let accepted!: (r: Recorder) => void;
    const serverSide = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await listen((c) => accepted(new Recorder(c)), transport);
    const client = new Recorder(await dial(listener.address, transport));
    client.connection.write(Buffer.from('x'));
    const server = await serverSide;
    const error = await client.closed;
    expect(error).toMatchObject({ code: 'RPCX_ERR_CONNECTION' });
    expect(error!.message).toContain('timeout: no recent network activity');
    await server.closed;

    const alive = quicTransport({ serverTls, maxIdleTimeoutMs: 400, keepAliveIntervalMs: 100 });
    const listener2 = await listen(() => {}, alive);
    const kept = new Recorder(await dial(listener2.address, alive));
    kept.connection.write(Buffer.from('x'));
    await sleep(1200);
    expect(kept.closes).toEqual([]);
  });

  it('dials IPv4 from the address the route uses, and tells the server nothing else', async () => {
    const listener = await listen();
    const c = await dial(listener.address);
    expect(c.localAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(c.remoteAddress).toBe(listener.address);
  });

  it('releases the UDP sockets of a failed dial once the handshake has wound down', async () => {
    const before = udpHandles();
    await dialError(await refusedUdpAddress());
    // QUIC keeps a closed connection's state for three probe timeouts (about 3 s before any
    // round trip was measured), and its socket with it.
    for (let i = 0; i < 100 && udpHandles() > before; i++) await sleep(100);
    expect(udpHandles()).toBeLessThanOrEqual(before);
  });
});

function udpHandles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof dgram.Socket).length;
}
