// Arith over a unix domain socket: the server listens on a socket file, the client dials
// `unix@<path>` (Go: s.Serve("unix", "/tmp/rpcx.socket"), NewPeer2PeerDiscovery("unix@"+addr, "")).
// `pnpm --filter @rpcx/examples unix --path /tmp/rpcx.socket`; by default a fresh temp directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import { Arith, type ArithService } from '../arith/service.js';

const scratch = mkdtempSync(join(tmpdir(), 'rpcx-unix-'));
const { values } = parseArgs({ options: { path: { type: 'string', default: join(scratch, 'rpcx.socket') } } });

// tcpTransport() serves the unix network too.
const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
await server.register(new Arith());
const listener = await server.listen('unix', values.path!);
console.log(`server: Arith on unix@${listener.address}`);

const client = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failtry,
  discovery: peer2peer(`unix@${listener.address}`),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
});
const reply = await client.typed<ArithService>().Mul({ A: 10, B: 20 });
console.log(`client: 10 * 20 = ${reply.C}`);

await client.close();
await server.shutdown(); // removes the socket file
rmSync(scratch, { recursive: true, force: true });
console.log('done');
