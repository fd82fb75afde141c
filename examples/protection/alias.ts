// @rpcx/plugin-alias: Calc.Times is served by Arith.Mul (Go's AliasPlugin).
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { aliasPlugin } from '@rpcx/plugin-alias';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { Arith } from './arith.js';

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
await server.use(aliasPlugin().alias('Calc', 'Times', 'Arith', 'Mul'));
await server.register(new Arith());
const listener = await server.listen('tcp', '127.0.0.1:0');
console.log(`server: Arith on tcp@${listener.address}, alias Calc.Times -> Arith.Mul`);

const client = new XClient({ servicePath: 'Calc', discovery: peer2peer(`tcp@${listener.address}`), transports: [tcpTransport()], codecs: [msgpackCodec()] });
const { C } = await client.call<{ C: number }>('Times', { A: 6, B: 7 });
console.log(`client: Calc.Times 6 7 = ${C}`);

await client.close();
await server.close();
console.log('done');
