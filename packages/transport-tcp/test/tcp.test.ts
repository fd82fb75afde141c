import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { ConfigError, UnsupportedError, type Connection } from '@rpcx/core';
import { hasIPv6Loopback, refusedAddress, silentServer, transportCompliance } from '@rpcx/transport-kit/testing';
import { tcpTransport, type TcpTransport } from '../src/index.js';

transportCompliance({
  name: 'tcp 127.0.0.1',
  transport: () => tcpTransport(),
  network: 'tcp',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
});

transportCompliance({
  name: 'tcp4 127.0.0.1',
  transport: () => tcpTransport(),
  network: 'tcp4',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
});

// Skipped only where the machine has no IPv6 loopback (some containers disable IPv6).
const ipv6 = await hasIPv6Loopback();
(ipv6 ? transportCompliance : () => describe.skip('tcp6 [::1]: no IPv6 loopback on this machine', () => {}))({
  name: 'tcp6 [::1]',
  transport: () => tcpTransport(),
  network: 'tcp6',
  listenAddress: () => '[::1]:0',
  refusedAddress: () => refusedAddress('::1'),
});

describe('tcpTransport specifics', () => {
  const transport = tcpTransport();
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  async function listen(network: string, address: string, onConnection: (c: Connection) => void = () => {}) {
    const listener = await transport.listen(network, address, onConnection);
    cleanups.push(() => listener.close());
    return listener;
  }
  const keep = (c: Connection) => {
    c.setHandler({ onData: () => {}, onClose: () => {} });
    cleanups.push(() => c.destroy());
  };

  it('serves tcp, tcp4, tcp6 and unix', () => {
    expect(transport.networks).toEqual(['tcp', 'tcp4', 'tcp6', 'unix']);
  });

  it('rejects other networks with UnsupportedError', async () => {
    await expect(transport.listen('udp', '127.0.0.1:0', () => {})).rejects.toBeInstanceOf(UnsupportedError);
    await expect(transport.dial('ws', '127.0.0.1:1')).rejects.toBeInstanceOf(UnsupportedError);
  });

  it('rejects malformed addresses with ConfigError', async () => {
    await expect(transport.listen('tcp', 'no-port', () => {})).rejects.toBeInstanceOf(ConfigError);
    await expect(transport.dial('tcp', '::1:80')).rejects.toBeInstanceOf(ConfigError);
    await expect(transport.listen('tcp4', '[::1]:0', () => {})).rejects.toThrow(
      'listen tcp4 [::1]:0: address ::1: non-IPv4 address',
    );
    await expect(transport.dial('tcp6', '127.0.0.1:1')).rejects.toBeInstanceOf(ConfigError);
  });

  it('words a refused dial as Go does', async () => {
    const address = await refusedAddress('127.0.0.1');
    await expect(transport.dial('tcp', address)).rejects.toThrow(`dial tcp ${address}: connect: connection refused`);
  });

  it('reports a port in use as ListenError RPCX_ERR_LISTEN', async () => {
    const first = await listen('tcp', '127.0.0.1:0');
    const error = await transport.listen('tcp', first.address, () => {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ListenError', code: 'RPCX_ERR_LISTEN' });
    expect((error as Error).message).toBe(`listen tcp ${first.address}: bind: address already in use`);
  });

  it('resolves a host name to listen on, IPv4 first as Go does', async () => {
    const listener = await listen('tcp', 'localhost:0');
    expect(listener.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  (ipv6 ? it : it.skip)('listens dual-stack on ":port" and shows IPv4 peers without the ::ffff: prefix (skipped without IPv6 loopback)', async () => {
    let accept!: (c: Connection) => void;
    const server = new Promise<Connection>((resolve) => (accept = resolve));
    const listener = await listen('tcp', ':0', (c) => {
      keep(c);
      accept(c);
    });
    expect(listener.address).toMatch(/^\[::\]:\d+$/);
    const port = Number(listener.address.split(':').pop());
    const client = await transport.dial('tcp', `127.0.0.1:${port}`);
    cleanups.push(() => client.destroy());
    expect((await server).remoteAddress).toBe(client.localAddress);
    expect(client.localAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const v6 = await transport.dial('tcp6', `[::1]:${port}`);
    cleanups.push(() => v6.destroy());
    expect(v6.remoteAddress).toBe(`[::1]:${port}`);
  });

  (ipv6 ? it : it.skip)('tcp6 on ":port" is IPv6-only, tcp4 on ":port" is IPv4-only (skipped without IPv6 loopback)', async () => {
    const six = await listen('tcp6', ':0');
    expect(six.address).toMatch(/^\[::\]:\d+$/);
    const sixPort = Number(six.address.split(':').pop());
    await expect(transport.dial('tcp', `127.0.0.1:${sixPort}`)).rejects.toMatchObject({ code: 'RPCX_ERR_DIAL' });
    const four = await listen('tcp4', ':0');
    expect(four.address).toMatch(/^0\.0\.0\.0:\d+$/);
    const fourPort = Number(four.address.split(':').pop());
    await expect(transport.dial('tcp', `[::1]:${fourPort}`)).rejects.toMatchObject({ code: 'RPCX_ERR_DIAL' });
  });

  it('reusePort: a ConfigError pointing to node:cluster before Node 22.12 / 23.1', async () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    const supported = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
    const reusing = tcpTransport({ reusePort: true });
    if (supported) {
      const a = await reusing.listen('tcp', '127.0.0.1:0', () => {});
      cleanups.push(() => a.close());
      const b = await reusing.listen('tcp', a.address, () => {});
      cleanups.push(() => b.close());
      expect(b.address).toBe(a.address);
    } else {
      const error = await reusing.listen('tcp', '127.0.0.1:0', () => {}).catch((e) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('node:cluster');
    }
    await expect(reusing.listen('unix', '/tmp/x.sock', () => {})).rejects.toBeInstanceOf(ConfigError);
  });

  it("uses the transport's connectTimeoutMs when the dial gives none, and the dial's timeoutMs when it does", async () => {
    // A listener with a full accept queue would be fragile; a TLS dial to a silent server is not.
    const silent = await silentServer('127.0.0.1');
    cleanups.push(() => silent.close());
    const quick = tcpTransport({ connectTimeoutMs: 100, clientTls: {} });
    let started = Date.now();
    await expect(quick.dial('tcp', silent.address)).rejects.toMatchObject({ code: 'RPCX_ERR_DIAL_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1000);
    const patient = tcpTransport({ connectTimeoutMs: 60_000, clientTls: {} });
    started = Date.now();
    await expect(patient.dial('tcp', silent.address, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'RPCX_ERR_DIAL_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('settings belong to the factory: misspelt or per-call ones do not compile (checked by pnpm typecheck)', async () => {
    // @ts-expect-error a misspelt setting is a compile error, not a silently ignored property
    expect(() => tcpTransport({ reusePrt: true })).not.toThrow();
    const address = await refusedAddress('127.0.0.1');
    // @ts-expect-error a dial takes only { signal?, timeoutMs? }: TLS is the factory's clientTls
    const plain = await transport.dial('tcp', address, { tls: {} }).catch((e: Error) => e);
    // the stray property did nothing: a plain TCP dial was refused
    expect((plain as Error).message).toBe(`dial tcp ${address}: connect: connection refused`);
  });

  // The kernel's keep-alive timers, read with ss(8), where it exists (Linux).
  const ss = spawnSync('ss', ['-V']).status === 0;
  (ss ? it : it.skip)('sets keep-alive as Go does: 3 min on accepted, 1 min on dialled connections (skipped where ss(8) is missing)', async () => {
    const timers = async (transport: TcpTransport) => {
      const listener = await transport.listen('tcp', '127.0.0.1:0', keep);
      cleanups.push(() => listener.close());
      const client = await transport.dial('tcp', listener.address);
      cleanups.push(() => client.destroy());
      await new Promise((r) => setTimeout(r, 20));
      const port = listener.address.split(':')[1];
      const out = spawnSync('ss', ['-tnoH', 'state', 'established', `( sport = :${port} or dport = :${port} )`]);
      const lines = out.stdout.toString().trim().split('\n');
      const side = (local: string) => lines.find((l) => l.split(/\s+/)[2] === local) ?? '';
      return { server: side(listener.address), client: side(client.localAddress) };
    };
    const defaults = await timers(transport);
    expect(defaults.server).toMatch(/timer:\(keepalive,(2min5\dsec|3min)/);
    expect(defaults.client).toMatch(/timer:\(keepalive,(59sec|1min)/);
    const off = await timers(tcpTransport({ serverKeepAliveMs: 0, clientKeepAliveMs: 0 }));
    expect(off.server).not.toContain('keepalive');
    expect(off.client).not.toContain('keepalive');
  });

  it('a peer reset reaches onClose as a ConnectionError with the cause', async () => {
    const raw = net.createServer((socket) => {
      socket.on('error', () => {});
      // Reset instead of closing once the client has spoken: the client reads ECONNRESET.
      socket.once('data', () => socket.resetAndDestroy());
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => raw.close(() => r())));
    const client = await transport.dial('tcp', `127.0.0.1:${(raw.address() as net.AddressInfo).port}`);
    const closed = new Promise<Error | undefined>((resolve) => client.setHandler({ onData() {}, onClose: resolve }));
    client.write(Buffer.from('x'));
    const error = await closed;
    expect(error).toMatchObject({ name: 'ConnectionError', code: 'RPCX_ERR_CONNECTION' });
    expect(error!.message).toBe(`read tcp ${client.localAddress}->${client.remoteAddress}: read: connection reset by peer`);
    expect((error!.cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });
});
