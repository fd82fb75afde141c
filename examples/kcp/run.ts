// Arith over KCP (`kcp@host:port`; Go: s.Serve("kcp", addr) in a server built with -tags kcp),
// KCP over UDP with kcp-go's FEC and AES encryption. Both sides derive the same key, as the
// seed's client does: pbkdf2.Key([]byte("rpcx-key"), []byte("rpcx-salt"), 4096, 32, sha1.New).
// KCP has no keepalive of its own, so set a call timeout (Go's examples say the same).
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { deriveKey, kcpTransport } from '@rpcx/transport-kcp';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import { Arith, type ArithService } from '../arith/service.js';

const key = deriveKey({ password: 'rpcx-key', salt: 'rpcx-salt' });

const server = new Server({ transports: [kcpTransport({ key })], codecs: [msgpackCodec()] });
await server.register(new Arith());
const listener = await server.listen('kcp', '127.0.0.1:0');
console.log(`server: Arith on kcp@${listener.address}`);

const client = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failtry,
  discovery: peer2peer(`kcp@${listener.address}`),
  transports: [kcpTransport({ key })],
  codecs: [msgpackCodec()],
  timeoutMs: 5_000,
});
const arith = client.typed<ArithService>();
const reply = await arith.Mul({ A: 10, B: 20 });
console.log(`client: 10 * 20 = ${reply.C}`);
let correct = 0;
for (let i = 0; i < 1000; i++) if ((await arith.Mul({ A: i, B: 2 })).C === 2 * i) correct++;
console.log(`client: ${correct} of 1000 calls correct`);

await client.close();
await server.shutdown();
console.log('done');
