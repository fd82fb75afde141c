// Arith over QUIC (`quic@host:port`; Go: s.Serve("quic", addr) in a server built with -tags quic).
// QUIC always runs TLS 1.3, so the server needs a certificate, and the client here trusts it as
// the seed's client does with its CA (option.TLSConfig = &tls.Config{RootCAs: roots}).
// Make a throwaway certificate for 127.0.0.1 first, then run it:
//
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 10 \
//     -keyout key.pem -out cert.pem -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1
//   pnpm --filter @rpcx/examples quic --cert cert.pem --key key.pem
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { quicTransport } from '@rpcx/transport-quic';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import { Arith, type ArithService } from '../arith/service.js';

const { values } = parseArgs({ options: { cert: { type: 'string', default: 'cert.pem' }, key: { type: 'string', default: 'key.pem' } } });
const cert = readFileSync(values.cert!, 'utf8');
const key = readFileSync(values.key!, 'utf8');

const server = new Server({ transports: [quicTransport({ serverTls: { cert, key } })], codecs: [msgpackCodec()] });
await server.register(new Arith());
const listener = await server.listen('quic', '127.0.0.1:0');
console.log(`server: Arith on quic@${listener.address}`);

const client = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failtry,
  discovery: peer2peer(`quic@${listener.address}`),
  transports: [quicTransport({ clientTls: { ca: cert } })],
  codecs: [msgpackCodec()],
});
const arith = client.typed<ArithService>();
const reply = await arith.Mul({ A: 10, B: 20 });
console.log(`client: 10 * 20 = ${reply.C}`);
const many = await Promise.all(Array.from({ length: 100 }, (_, i) => arith.Mul({ A: i, B: 2 })));
console.log(`client: 100 calls on one QUIC connection, all correct: ${many.every((r, i) => r.C === 2 * i)}`);

await client.close();
await server.shutdown();
console.log('done');
