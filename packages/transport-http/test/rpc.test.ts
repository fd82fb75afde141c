// The transport under a real @rpcx server and XClient: `server.listen('http', …)`, a client
// key `http@…`, and the RPC path and TLS passed the way users pass them: to the transport.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { XClient, peer2peer } from '@rpcx/xclient';
import { selfSigned } from '@rpcx/transport-kit/testing';
import { httpTransport, type HttpTransportOptions } from '../src/index.js';

class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
}

const { key, cert } = selfSigned('rpcx-http-rpc-');

describe('rpcx calls over http', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function roundTrip(serverOptions: HttpTransportOptions, clientOptions: HttpTransportOptions) {
    const server = new Server({ transports: [httpTransport(serverOptions)], codecs: [msgpackCodec()] });
    await server.register(new Arith());
    const listener = await server.listen('http', '127.0.0.1:0');
    closers.push(() => server.close());
    expect(server.addresses()).toEqual([`http@${listener.address}`]);
    const client = new XClient({
      servicePath: 'Arith',
      discovery: peer2peer(`http@${listener.address}`),
      transports: [httpTransport(clientOptions)],
      codecs: [msgpackCodec()],
    });
    closers.push(() => client.close());
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call<{ C: number }>('Mul', { A: i, B: 2 })));
    expect(replies.every((r, i) => r.C === i * 2)).toBe(true);
  }

  it('plain', () => roundTrip({}, {}));
  it('with a custom RPC path on both sides', () => roundTrip({ rpcPath: '/rpc' }, { rpcPath: '/rpc' }));
  it('over TLS', () => roundTrip({ serverTls: { key, cert } }, { clientTls: { ca: cert } }));
});
