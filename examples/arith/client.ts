// Call Arith peer to peer: `pnpm --filter @rpcx/examples arith:client --addr 127.0.0.1:8972`.
// Works against the TypeScript server above or a Go rpcx server with the same service.
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import type { ArithService } from './service.js';

const { values } = parseArgs({ options: { addr: { type: 'string', default: '127.0.0.1:8972' } } });

const client = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failtry,
  discovery: peer2peer(`tcp@${values.addr}`),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
});
const arith = client.typed<ArithService>();
const args = { A: 10, B: 20 };
const reply = await arith.Mul(args);
console.log(`${args.A} * ${args.B} = ${reply.C}`);
await client.close();
