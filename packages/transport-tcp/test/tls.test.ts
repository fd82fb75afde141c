import path from 'node:path';
import type { Connection } from '@rpcx/core';
import { hasIPv6Loopback, refusedAddress, selfSigned, silentServer, transportCompliance } from '@rpcx/transport-kit/testing';
import { tcpTransport } from '../src/index.js';

const { key, cert, dir } = selfSigned('rpcx-tls-');
const serverTls = { key, cert };
const clientTls = { ca: cert };

transportCompliance({
  name: 'tls over tcp 127.0.0.1',
  transport: () => tcpTransport({ serverTls, clientTls }),
  network: 'tcp',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
  stalledAddress: () => silentServer('127.0.0.1'),
});

const ipv6 = await hasIPv6Loopback();
// Skipped only where the machine has no IPv6 loopback (some containers disable IPv6).
(ipv6 ? transportCompliance : () => describe.skip('tls over tcp6 [::1]: no IPv6 loopback', () => {}))({
  name: 'tls over tcp6 [::1]',
  transport: () => tcpTransport({ serverTls, clientTls }),
  network: 'tcp6',
  listenAddress: () => '[::1]:0',
  refusedAddress: () => refusedAddress('::1'),
  stalledAddress: () => silentServer('::1'),
});

let seq = 0;
const socketPath = () => path.join(dir, `s${++seq}.sock`);
// Go's server never serves TLS on unix (its client would try); Node can, so it is tested.
transportCompliance({
  name: 'tls over unix',
  // No host name on a unix dial: the certificate is checked against `servername`.
  transport: () => tcpTransport({ serverTls, clientTls: { ...clientTls, servername: 'localhost' } }),
  network: 'unix',
  listenAddress: socketPath,
  refusedAddress: socketPath,
});

describe('tls specifics', () => {
  const transport = tcpTransport({ serverTls, clientTls });
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('hands a connection over only after the handshake', async () => {
    let accept!: (c: Connection) => void;
    const accepted = new Promise<Connection>((resolve) => (accept = resolve));
    const listener = await transport.listen('tcp', '127.0.0.1:0', accept);
    cleanups.push(() => listener.close());
    const client = await transport.dial('tcp', listener.address);
    cleanups.push(() => client.destroy());
    const server = await accepted;
    cleanups.push(() => server.destroy());
    expect(listener.server.listenerCount('secureConnection')).toBe(1);
    expect(server.remoteAddress).toBe(client.localAddress);
  });

  it('checks the certificate against a host name (servername defaults to the host)', async () => {
    const listener = await transport.listen('tcp', '127.0.0.1:0', (c) =>
      c.setHandler({ onData() {}, onClose() {} }),
    );
    cleanups.push(() => listener.close());
    const port = listener.address.split(':')[1];
    const client = await transport.dial('tcp', `localhost:${port}`);
    client.destroy();
  });

  it('an untrusted certificate fails the dial with DialError RPCX_ERR_DIAL', async () => {
    const listener = await transport.listen('tcp', '127.0.0.1:0', () => {});
    cleanups.push(() => listener.close());
    const error = await tcpTransport({ clientTls: {} }).dial('tcp', listener.address).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DialError', code: 'RPCX_ERR_DIAL' });
    expect((error as Error).message).toContain(`dial tcp ${listener.address}: tls: self-signed certificate`);
    expect((error as Error).cause).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('closing the listener drops clients stuck in the handshake', async () => {
    const listener = await transport.listen('tcp', '127.0.0.1:0', () => {});
    const net = await import('node:net');
    const [host, port] = listener.address.split(':');
    // A plain TCP client that never starts the handshake.
    const stuck = net.connect({ host, port: Number(port) });
    stuck.on('error', () => {});
    await new Promise((resolve) => stuck.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await listener.connectionCount()).toBe(1);
    await listener.close();
    await listener.drained;
    expect(await listener.connectionCount()).toBe(0);
    stuck.destroy();
  });
});
