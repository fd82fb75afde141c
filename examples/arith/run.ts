// The quick start: an Arith server and a client in one process, talking rpcx over TCP on
// loopback, then a clean shutdown. Nothing external is needed.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import { Arith, type ArithService } from './service.js';

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
await server.register(new Arith());
const listener = await server.listen('tcp', '127.0.0.1:0');
console.log(`server: Arith on tcp@${listener.address}`);

const client = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failtry,
  discovery: peer2peer(`tcp@${listener.address}`),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
});
const arith = client.typed<ArithService>();

const mul = await arith.Mul({ A: 10, B: 20 });
console.log(`client: 10 * 20 = ${mul.C}`);
const add = await arith.Add({ A: 10, B: 20 });
console.log(`client: 10 + 20 = ${add.C}`);
const many = await Promise.all(Array.from({ length: 1000 }, (_, i) => arith.Mul({ A: i, B: 2 })));
console.log(`client: 1000 concurrent calls on one connection, all correct: ${many.every((r, i) => r.C === 2 * i)}`);

await client.close();
await server.shutdown();
console.log('done');
