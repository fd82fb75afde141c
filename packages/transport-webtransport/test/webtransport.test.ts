import { ConfigError, UnsupportedError, type Connection } from '@rpcx/core';
import { Recorder, refusedAddress, selfSigned, silentServer, transportCompliance } from '@rpcx/transport-kit/testing';
import { certificateHash, webTransportTransport, type WebTransportTransport } from '../src/index.js';

const { key, cert } = selfSigned('rpcx-webtransport-');
const serverTls = { key, cert };
const serverCertificateHashes = [certificateHash(cert)];

// Only the HTTP/2 mode of @fails-components/webtransport runs here (see README).
transportCompliance({
  name: 'webtransport over HTTP/2, 127.0.0.1',
  transport: () => webTransportTransport({ serverTls, serverCertificateHashes }),
  network: 'webtransport',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
  // Accepts TCP and never answers the TLS handshake.
  stalledAddress: () => silentServer('127.0.0.1'),
  // The library does not expose the client's local port.
  dialerLocalAddressUnknown: true,
  // Measured: with the reader paused, 64 MiB of writes were all taken within 0.5 s.
  pauseDoesNotHoldWriter: '@fails-components/webtransport in HTTP/2 mode takes writes ahead of what the peer reads',
});

describe('webTransportTransport specifics', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  async function listen(onConnection: (c: Connection) => void = () => {}, transport: WebTransportTransport = webTransportTransport({ serverTls })) {
    const listener = await transport.listen('webtransport', '127.0.0.1:0', (c) => {
      cleanups.push(() => c.destroy());
      onConnection(c);
    });
    cleanups.push(() => listener.close());
    return listener;
  }

  it('serves webtransport only; needs a certificate to listen and a hash to dial', async () => {
    const t = webTransportTransport();
    expect(t.networks).toEqual(['webtransport']);
    await expect(t.listen('quic', '127.0.0.1:0', () => {})).rejects.toBeInstanceOf(UnsupportedError);
    await expect(t.listen('webtransport', '127.0.0.1:0', () => {})).rejects.toBeInstanceOf(ConfigError);
    await expect(t.dial('webtransport', '127.0.0.1:1')).rejects.toBeInstanceOf(ConfigError);
    expect(() => webTransportTransport({ path: 'rpc' })).toThrow(ConfigError);
  });

  it('reports a port in use as a listen error', async () => {
    const listener = await listen();
    const error = await webTransportTransport({ serverTls })
      .listen('webtransport', listener.address, () => {})
      .catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'RPCX_ERR_LISTEN', message: `listen tcp ${listener.address}: bind: address already in use` });
  });

  it('refuses a certificate whose hash is not pinned, and another path', async () => {
    const listener = await listen();
    const dial = (options: Parameters<typeof webTransportTransport>[0]) => webTransportTransport(options).dial('webtransport', listener.address);
    const wrongHash = await dial({ serverCertificateHashes: ['00'.repeat(32)] }).catch((e: Error) => e);
    expect(wrongHash).toMatchObject({ code: 'RPCX_ERR_DIAL' });
    const wrongPath = await dial({ serverCertificateHashes, path: '/other' }).catch((e: Error) => e);
    expect(wrongPath).toMatchObject({ code: 'RPCX_ERR_DIAL' });
    const hex = certificateHash(cert).toString('hex');
    const ok = await dial({ serverCertificateHashes: [hex] });
    cleanups.push(() => ok.destroy());
  });

  it('the server sees the client address and gets the stream before any byte', async () => {
    let accepted!: (r: Recorder) => void;
    const serverSide = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await listen((c) => accepted(new Recorder(c)));
    const client = new Recorder(await webTransportTransport({ serverCertificateHashes }).dial('webtransport', listener.address));
    cleanups.push(() => client.connection.destroy());
    const server = await serverSide;
    expect(server.connection.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(client.connection.localAddress).toBe('');
    server.connection.write(Buffer.from('first'));
    await client.waitFor(5);
    expect(client.data().toString()).toBe('first');
  });
});
