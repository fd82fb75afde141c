// Arith over TLS: the server listens with a certificate, the client checks it against the CA
// it trusts (Go: server.NewServer(server.WithTLSConfig(conf)); option.TLSConfig on the client).
// Make a throwaway certificate for 127.0.0.1 first, then run it:
//
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 10 \
//     -keyout key.pem -out cert.pem -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1
//   pnpm --filter @rpcx/examples tls --cert cert.pem --key key.pem
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import { Arith, type ArithService } from '../arith/service.js';

const { values } = parseArgs({ options: { cert: { type: 'string', default: 'cert.pem' }, key: { type: 'string', default: 'key.pem' } } });
const cert = readFileSync(values.cert!);
const key = readFileSync(values.key!);

// TLS is the transport's setting: serverTls for what it listens on, clientTls for what it dials.
const server = new Server({ transports: [tcpTransport({ serverTls: { cert, key } })], codecs: [msgpackCodec()] });
await server.register(new Arith());
const listener = await server.listen('tcp', '127.0.0.1:0');
console.log(`server: Arith on tcp@${listener.address} (TLS)`);

const client = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failtry,
  discovery: peer2peer(`tcp@${listener.address}`),
  // Trust this self-signed certificate; Go's example skips the check instead.
  transports: [tcpTransport({ clientTls: { ca: cert } })],
  codecs: [msgpackCodec()],
});
const reply = await client.typed<ArithService>().Mul({ A: 10, B: 20 });
console.log(`client: 10 * 20 = ${reply.C}`);

// A client that does not trust the certificate cannot call.
const stranger = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failfast,
  discovery: peer2peer(`tcp@${listener.address}`),
  transports: [tcpTransport({ clientTls: {} })],
  codecs: [msgpackCodec()],
});
const refused = await stranger.call('Mul', { A: 1, B: 1 }).catch((err: Error) => err.message);
console.log(`client without the CA: ${refused}`);

await Promise.all([client.close(), stranger.close()]);
await server.shutdown();
console.log('done');
