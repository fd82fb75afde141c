// The transport under a real @rpcx server and XClient: `server.listen('webtransport', …)` with
// a certificate, a client key `webtransport@…` and the certificate hash pinned by the client's transport.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { XClient, peer2peer } from '@rpcx/xclient';
import { selfSigned } from '@rpcx/transport-kit/testing';
import { certificateHash, webTransportTransport } from '../src/index.js';

class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
}

const { key, cert } = selfSigned('rpcx-webtransport-rpc-');

it('rpcx calls over webtransport (HTTP/2 mode)', async () => {
  const server = new Server({ transports: [webTransportTransport({ serverTls: { key, cert } })], codecs: [msgpackCodec()] });
  await server.register(new Arith());
  const listener = await server.listen('webtransport', '127.0.0.1:0');
  const client = new XClient({
    servicePath: 'Arith',
    discovery: peer2peer(`webtransport@${listener.address}`),
    transports: [webTransportTransport({ serverCertificateHashes: [certificateHash(cert)] })],
    codecs: [msgpackCodec()],
  });
  try {
    expect(server.addresses()).toEqual([`webtransport@${listener.address}`]);
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call<{ C: number }>('Mul', { A: i, B: 2 })));
    expect(replies.every((r, i) => r.C === i * 2)).toBe(true);
  } finally {
    await client.close();
    await server.close();
  }
});
