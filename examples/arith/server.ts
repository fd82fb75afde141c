// Serve Arith over TCP: `pnpm --filter @rpcx/examples arith:server --addr 127.0.0.1:8972`.
// A Go rpcx client calls it as it would a Go server.
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { Arith } from './service.js';

const { values } = parseArgs({ options: { addr: { type: 'string', default: '127.0.0.1:8972' } } });

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
await server.register(new Arith());
const listener = await server.listen('tcp', values.addr!);
// Handlers first: whoever reads the line below may signal at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.shutdown().then(() => process.exit(0)));
}
console.log(`Arith listening on tcp@${listener.address}`);
