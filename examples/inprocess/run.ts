// In process, as the seed's "In process" example: the server and the client live in one process
// and talk rpcx without a socket (Go: client.NewInprocessDiscovery() and the InprocessClient
// plugin; here the `memu` network of @rpcx/transport-memory, handy for tests and debugging).
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { memoryTransport } from '@rpcx/transport-memory';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import { Arith, type ArithService } from '../arith/service.js';

const memu = memoryTransport();
const server = new Server({ transports: [memu], codecs: [msgpackCodec()] });
await server.register(new Arith());
await server.listen('memu', 'arith');

const client = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failtry,
  discovery: peer2peer('memu@arith'),
  transports: [memu],
  codecs: [msgpackCodec()],
});
const arith = client.typed<ArithService>();
let correct = 0;
for (let i = 0; i < 100; i++) if ((await arith.Mul({ A: 10, B: 20 })).C === 200) correct++;
console.log(`10 * 20 = 200 in ${correct} of 100 calls, in process`);

await client.close();
await server.shutdown();
console.log('done');
