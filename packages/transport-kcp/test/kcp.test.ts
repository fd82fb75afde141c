import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConfigError, UnsupportedError, type Connection } from '@rpcx/core';
import { Recorder, refusedUdpAddress, silentUdpServer, sleep, transportCompliance } from '@rpcx/transport-kit/testing';
import { aesBlockCrypt, defaultBlockCrypt, kcpTransport, noneBlockCrypt, type KcpConnection, type KcpTransportOptions } from '../src/index.js';
import { CRYPT_HEADER_SIZE, FEC_HEADER_SIZE_PLUS2, TYPE_DATA } from '../src/fec.js';
import { CMD_PUSH, IKCP_OVERHEAD } from '../src/kcp.js';
import { CONTROL_RST, open, parseControl, seal } from '../src/packet.js';

transportCompliance({
  name: 'kcp 127.0.0.1 (kcp-go defaults: windows 32, interval 100 ms)',
  transport: () => kcpTransport(),
  network: 'kcp',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedUdpAddress(),
  stalledAddress: () => silentUdpServer(),
});

transportCompliance({
  name: 'kcp 127.0.0.1, fast profile, no encryption',
  transport: () =>
    kcpTransport({
      crypt: noneBlockCrypt(),
      noDelay: true,
      interval: 10,
      fastResend: 2,
      noCongestionWindow: true,
      sndWnd: 128,
      rcvWnd: 128,
    }),
  network: 'kcp',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedUdpAddress(),
});

describe('kcpTransport specifics', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  /** A listener whose first accepted connection is recorded (`serverSide`). */
  async function recordedListener(serverOptions: KcpTransportOptions = {}) {
    const serverTransport = kcpTransport(serverOptions);
    let accepted!: (r: Recorder) => void;
    const serverSide = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await serverTransport.listen('kcp', '127.0.0.1:0', (c) => {
      cleanups.push(() => c.destroy());
      accepted(new Recorder(c));
    });
    cleanups.push(() => listener.close());
    return { serverTransport, listener, serverSide };
  }

  async function pair(serverOptions: KcpTransportOptions = {}, clientOptions: KcpTransportOptions = serverOptions) {
    const { serverTransport, listener, serverSide } = await recordedListener(serverOptions);
    const clientTransport = kcpTransport(clientOptions);
    const connection = await clientTransport.dial('kcp', listener.address);
    cleanups.push(() => connection.destroy());
    const client = new Recorder(connection);
    const server = await serverSide;
    return { serverTransport, clientTransport, listener, client, server };
  }

  it('serves only kcp', async () => {
    const transport = kcpTransport();
    expect(transport.networks).toEqual(['kcp']);
    await expect(transport.listen('udp', '127.0.0.1:0', () => {})).rejects.toBeInstanceOf(UnsupportedError);
    await expect(transport.dial('tcp', '127.0.0.1:1')).rejects.toBeInstanceOf(UnsupportedError);
  });

  it('rejects bad options and addresses with ConfigError', async () => {
    expect(() => kcpTransport({ mtu: 2000 })).toThrow(ConfigError);
    expect(() => kcpTransport({ dataShards: 0 })).toThrow(ConfigError);
    expect(() => kcpTransport({ sndWnd: 1.5 })).toThrow(ConfigError);
    expect(() => kcpTransport({ simulatedLoss: 1 })).toThrow(ConfigError);
    expect(() => kcpTransport({ key: crypto.randomBytes(7) })).toThrow(ConfigError);
    await expect(kcpTransport().listen('kcp', 'no-port', () => {})).rejects.toBeInstanceOf(ConfigError);
  });

  it('reports a port in use as ListenError RPCX_ERR_LISTEN', async () => {
    const transport = kcpTransport();
    const first = await transport.listen('kcp', '127.0.0.1:0', () => {});
    cleanups.push(() => first.close());
    const error = await transport.listen('kcp', first.address, () => {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ListenError', code: 'RPCX_ERR_LISTEN' });
    expect((error as Error).message).toBe(`listen kcp ${first.address}: bind: address already in use`);
  });

  it('words a refused dial as Go does', async () => {
    const address = await refusedUdpAddress();
    await expect(kcpTransport().dial('kcp', address)).rejects.toThrow(`dial kcp ${address}: read: connection refused`);
  });

  it('a dial with the wrong key times out: the listener cannot read it and stays silent', async () => {
    const server = kcpTransport();
    const accepted: Connection[] = [];
    const listener = await server.listen('kcp', '127.0.0.1:0', (c) => accepted.push(c));
    cleanups.push(() => listener.close());
    const wrong = kcpTransport({ key: crypto.randomBytes(32) });
    await expect(wrong.dial('kcp', listener.address, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'RPCX_ERR_DIAL_TIMEOUT' });
    expect(accepted).toHaveLength(0);
    expect(server.stats.inCsumErrors).toBeGreaterThan(0);
  });

  it('a custom key on both sides works, given as a cipher or as a key', async () => {
    const key = crypto.randomBytes(16);
    let server!: Recorder;
    const listener = await kcpTransport({ crypt: aesBlockCrypt(key) }).listen('kcp', '127.0.0.1:0', (c) => {
      cleanups.push(() => c.destroy());
      server = new Recorder(c);
    });
    cleanups.push(() => listener.close());
    const connection = await kcpTransport({ key }).dial('kcp', listener.address);
    cleanups.push(() => connection.destroy());
    connection.write(Buffer.from('secret'));
    await sleep(10);
    await server.waitFor(6);
    expect(server.data().toString()).toBe('secret');
  });

  it('packs small writes into full segments in stream mode (the default)', async () => {
    const { client, server } = await pair();
    const connection = client.connection as KcpConnection;
    for (let i = 0; i < 1000; i++) connection.write(Buffer.alloc(10, i));
    await server.waitFor(10_000);
    // 10 000 bytes in 1348-byte segments: 8 segments, not 1000.
    expect(connection.stats.outSegs).toBeLessThan(20);
    expect(server.data().length).toBe(10_000);
  });

  it('sends every write in its own segments when stream mode is off', async () => {
    const { client, server } = await pair({ streamMode: false });
    const connection = client.connection as KcpConnection;
    for (let i = 0; i < 50; i++) connection.write(Buffer.alloc(10, i));
    await server.waitFor(500);
    expect(connection.stats.outSegs).toBeGreaterThanOrEqual(50);
  });

  it('pauseReading() closes the window: the sender keeps its data', async () => {
    const { client, server } = await pair();
    server.connection.pauseReading();
    const payload = crypto.randomBytes(200_000);
    client.connection.write(payload);
    await sleep(300);
    // 32 segments fill the window; the rest stays with the sender.
    expect(server.received).toBe(0);
    expect(client.connection.pendingBytes).toBeGreaterThan(100_000);
  });

  it('a listener that closed answers new dials with a refusal but keeps its conversations', async () => {
    const { clientTransport, listener, client, server } = await pair();
    await listener.close();
    await expect(clientTransport.dial('kcp', listener.address)).rejects.toThrow(`dial kcp ${listener.address}: connection refused`);
    client.connection.write(Buffer.from('still here'));
    await server.waitFor(10);
    expect(await listener.connectionCount()).toBe(1);
    await client.connection.close();
    await server.closed;
    await listener.drained;
    expect(await listener.connectionCount()).toBe(0);
  });

  it('a conversation that ended answers its stragglers with how it ended (FIN)', async () => {
    // The server's FINs (34-byte control datagrams) are lost, so the client does not know.
    const { client, server } = await pair({ simulatedLoss: (d) => d.length === 34 }, {});
    await server.connection.close();
    expect(await server.closed).toBeUndefined();
    await sleep(50);
    expect(client.connection.closed).toBe(false);
    // Its next datagram reaches a listener that remembers the conversation ended with a FIN.
    client.connection.write(Buffer.from('anyone?'));
    const error = await client.closed;
    expect(error?.message).toMatch(/peer closed before receiving everything/);
  });

  it('closing in the handler of the last data acknowledges it before FIN: the sender sees a clean close', async () => {
    const { listener, serverSide } = await recordedListener();
    const connection = await kcpTransport().dial('kcp', listener.address);
    cleanups.push(() => connection.destroy());
    const received: Buffer[] = [];
    const clientClosed = new Promise<Error | undefined>((resolve) =>
      connection.setHandler({
        onData(chunk) {
          received.push(Buffer.from(chunk));
          // The ACK of this data has not left yet (it waits for a reply to ride on).
          void connection.close();
        },
        onClose: resolve,
      }),
    );
    const server = await serverSide;
    server.connection.write(Buffer.from('last words'));
    expect(await clientClosed).toBeUndefined();
    expect(Buffer.concat(received).toString()).toBe('last words');
    expect(await server.closed).toBeUndefined();
  });

  it('destroy() resets the peer: it sees ConnectionError “connection reset by peer”', async () => {
    const { client, server } = await pair();
    client.connection.destroy(new Error('gone'));
    const error = await server.closed;
    expect(error).toMatchObject({ name: 'ConnectionError', code: 'RPCX_ERR_CONNECTION' });
    expect(error!.message).toMatch(/^read kcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: connection reset by peer$/);
  });

  it('a stranger’s data far into a stream opens no conversation and is answered with RST', async () => {
    const transport = kcpTransport();
    const accepted: Connection[] = [];
    const listener = await transport.listen('kcp', '127.0.0.1:0', (c) => accepted.push(c));
    cleanups.push(() => listener.close());
    const crypt = defaultBlockCrypt();
    // A data datagram with one PUSH segment, sn 5000: the middle of someone else's stream.
    const packet = new Uint8Array(CRYPT_HEADER_SIZE + FEC_HEADER_SIZE_PLUS2 + IKCP_OVERHEAD + 4);
    const view = new DataView(packet.buffer);
    view.setUint16(CRYPT_HEADER_SIZE + 4, TYPE_DATA, true);
    view.setUint16(CRYPT_HEADER_SIZE + 6, IKCP_OVERHEAD + 4 + 2, true);
    const seg = CRYPT_HEADER_SIZE + FEC_HEADER_SIZE_PLUS2;
    view.setUint32(seg, 0xabcdef, true);
    packet[seg + 4] = CMD_PUSH;
    view.setUint32(seg + 12, 5000, true);
    view.setUint32(seg + 20, 4, true);
    const socket = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const reply = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    const [host, port] = listener.address.split(':');
    socket.send(seal(packet, crypt), Number(port), host);
    const body = open(await reply, crypt)!;
    expect(parseControl(body)).toEqual({ kind: CONTROL_RST, conv: 0xabcdef });
    expect(accepted).toHaveLength(0);
    expect(await listener.connectionCount()).toBe(0);
  });

  it('idleTimeoutMs closes a conversation that hears nothing', async () => {
    const { server } = await pair({ idleTimeoutMs: 200 }, {});
    const error = await server.closed;
    expect(error).toMatchObject({ code: 'RPCX_ERR_CONNECTION' });
    expect(error!.message).toMatch(/i\/o timeout/);
  });

  it('a peer that vanishes without a word is noticed by the dialer (ICMP port unreachable)', async () => {
    const serverTransport = kcpTransport();
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    // Relay to a real listener so the dial completes, then close the relay's port.
    const listener = await serverTransport.listen('kcp', '127.0.0.1:0', (c) => cleanups.push(() => c.destroy()));
    cleanups.push(() => listener.close());
    const [host, port] = [listener.address.split(':')[0], Number(listener.address.split(':')[1])];
    let dialer: dgram.RemoteInfo | undefined;
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port === port) socket.send(msg, dialer!.port, dialer!.address);
      else {
        dialer = rinfo;
        socket.send(msg, port, host);
      }
    });
    const connection = await kcpTransport().dial('kcp', `127.0.0.1:${socket.address().port}`);
    const recorder = new Recorder(connection);
    await new Promise<void>((resolve) => socket.close(resolve));
    connection.write(Buffer.from('anyone?'));
    const error = await recorder.closed;
    expect(error).toMatchObject({ code: 'RPCX_ERR_CONNECTION' });
    expect(error!.message).toContain('connection refused');
  });
});

describe('kcp with a peer in another process', () => {
  it('a process blocked past the RTO reads the ACKs that came meanwhile before retransmitting', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/echo-peer.ts', import.meta.url))], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const m = /^LISTENING (\S+)/.exec(line);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`echo peer exited with ${code}`)));
      });
      const connection = (await kcpTransport().dial('kcp', address)) as KcpConnection;
      const recorder = new Recorder(connection);
      const data = crypto.randomBytes(8000);
      connection.write(data);
      await new Promise((resolve) => setImmediate(resolve));
      // The segments are on their way (first RTO: 200 ms). Hold the event loop well past it
      // while the peer acknowledges and echoes them.
      const until = performance.now() + 1500;
      while (performance.now() < until);
      await recorder.waitFor(data.length);
      expect(recorder.data().equals(data)).toBe(true);
      expect(connection.stats.lostSegs).toBe(0);
      await connection.close();
    } finally {
      child.kill('SIGTERM');
    }
  }, 30_000);
});

describe('kcp loss recovery (simulated loss on both sides)', () => {
  it('carries 1 MiB each way intact with 10% of datagrams dropped each way, and FEC rebuilds some on both sides', async () => {
    const lossy: KcpTransportOptions = { simulatedLoss: 0.1 };
    const serverTransport = kcpTransport(lossy);
    const clientTransport = kcpTransport(lossy);
    let accepted!: (r: Recorder) => void;
    const serverSide = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await serverTransport.listen('kcp', '127.0.0.1:0', (c) => accepted(new Recorder(c)));
    try {
      const connection = await clientTransport.dial('kcp', listener.address, { timeoutMs: 5000 });
      const client = new Recorder(connection);
      const server = await serverSide;
      const up = crypto.randomBytes(1 << 20);
      const down = crypto.randomBytes(1 << 20);
      client.connection.write(up);
      server.connection.write(down);
      await Promise.all([server.waitFor(up.length), client.waitFor(down.length)]);
      expect(server.data().equals(up)).toBe(true);
      expect(client.data().equals(down)).toBe(true);
      const [c, s] = [clientTransport.stats, serverTransport.stats];
      // Roughly a tenth of what each side sent was dropped…
      expect(c.simulatedDrops / (c.simulatedDrops + c.outPkts)).toBeGreaterThan(0.05);
      expect(s.simulatedDrops / (s.simulatedDrops + s.outPkts)).toBeGreaterThan(0.05);
      // …and each side rebuilt datagrams from the other's parity.
      expect(c.fecRecovered).toBeGreaterThan(0);
      expect(s.fecRecovered).toBeGreaterThan(0);
      await connection.close();
      await server.closed;
    } finally {
      await listener.close();
    }
  }, 60_000);
});
