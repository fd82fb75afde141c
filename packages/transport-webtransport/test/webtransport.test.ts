import { ConfigError, UnsupportedError, type Connection } from '@rpcx/core';
import { certificateHash, webTransportTransport, type WebTransportListener } from '../src/index.js';
import { transportCompliance, Recorder } from '../../transport-tcp/test/compliance.js';
import { refusedAddress, silentServer } from '../../transport-tcp/test/helpers.js';
import { selfSigned } from '../../transport-quic/test/helpers.js';

const { key, cert } = selfSigned('rpcx-webtransport-');
const serverCertificateHashes = [certificateHash(cert)];

// Only the HTTP/2 mode of @fails-components/webtransport runs here (see README).
transportCompliance({
  name: 'webtransport over HTTP/2, 127.0.0.1',
  transport: () => webTransportTransport(),
  network: 'webtransport',
  listenAddress: () => '127.0.0.1:0',
  listenOptions: { tls: { key, cert } },
  dialOptions: { serverCertificateHashes },
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
  async function listen(onConnection: (c: Connection) => void = () => {}, options: Record<string, unknown> = {}) {
    const listener = (await webTransportTransport().listen('webtransport', '127.0.0.1:0', { tls: { key, cert }, ...options }, (c) => {
      cleanups.push(() => c.destroy());
      onConnection(c);
    })) as WebTransportListener;
    cleanups.push(() => listener.close());
    return listener;
  }

  it('serves webtransport only; needs a certificate to listen and a hash to dial', async () => {
    const t = webTransportTransport();
    expect(t.networks).toEqual(['webtransport']);
    await expect(t.listen('quic', '127.0.0.1:0', {}, () => {})).rejects.toBeInstanceOf(UnsupportedError);
    await expect(t.listen('webtransport', '127.0.0.1:0', {}, () => {})).rejects.toBeInstanceOf(ConfigError);
    await expect(t.dial('webtransport', '127.0.0.1:1', {})).rejects.toBeInstanceOf(ConfigError);
    expect(() => webTransportTransport({ path: 'rpc' })).toThrow(ConfigError);
  });

  it('reports a port in use as a listen error', async () => {
    const listener = await listen();
    const error = await webTransportTransport()
      .listen('webtransport', listener.address, { tls: { key, cert } }, () => {})
      .catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'RPCX_ERR_LISTEN', message: `listen tcp ${listener.address}: bind: address already in use` });
  });

  it('refuses a certificate whose hash is not pinned, and another path', async () => {
    const listener = await listen();
    const t = webTransportTransport();
    const wrongHash = await t.dial('webtransport', listener.address, { serverCertificateHashes: ['00'.repeat(32)] }).catch((e: Error) => e);
    expect(wrongHash).toMatchObject({ code: 'RPCX_ERR_DIAL' });
    const wrongPath = await t.dial('webtransport', listener.address, { serverCertificateHashes, path: '/other' }).catch((e: Error) => e);
    expect(wrongPath).toMatchObject({ code: 'RPCX_ERR_DIAL' });
    const hex = certificateHash(cert).toString('hex');
    const ok = await t.dial('webtransport', listener.address, { serverCertificateHashes: [hex] });
    cleanups.push(() => ok.destroy());
  });

  it('the server sees the client address and gets the stream before any byte', async () => {
    let accepted!: (r: Recorder) => void;
    const serverSide = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await listen((c) => accepted(new Recorder(c)));
    const client = new Recorder(await webTransportTransport().dial('webtransport', listener.address, { serverCertificateHashes }));
    cleanups.push(() => client.connection.destroy());
    const server = await serverSide;
    expect(server.connection.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(client.connection.localAddress).toBe('');
    server.connection.write(Buffer.from('first'));
    await client.waitFor(5);
    expect(client.data().toString()).toBe('first');
  });
});
