// The transport under a real @rpcx server and XClient: `server.listen('quic', …)` with a
// certificate, and a client key `quic@…`, TLS verified and not.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { XClient, peer2peer } from '@rpcx/xclient';
import { selfSigned } from '@rpcx/transport-kit/testing';
import { quicTransport, type QuicTransportOptions } from '../src/index.js';

class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
}

const { key, cert } = selfSigned('rpcx-quic-rpc-');

describe('rpcx calls over quic', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function roundTrip(clientTls: QuicTransportOptions['clientTls']) {
    const server = new Server({ transports: [quicTransport({ serverTls: { key, cert } })], codecs: [msgpackCodec()] });
    await server.register(new Arith());
    const listener = await server.listen('quic', '127.0.0.1:0');
    closers.push(() => server.close());
    expect(server.addresses()).toEqual([`quic@${listener.address}`]);
    const client = new XClient({
      servicePath: 'Arith',
      discovery: peer2peer(`quic@${listener.address}`),
      transports: [quicTransport({ clientTls })],
      codecs: [msgpackCodec()],
    });
    closers.push(() => client.close());
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call<{ C: number }>('Mul', { A: i, B: 2 })));
    expect(replies.every((r, i) => r.C === i * 2)).toBe(true);
  }

  it('without client TLS options (no verification, as Go)', () => roundTrip(undefined));
  it('with the server certificate verified', () => roundTrip({ ca: cert }));
});
