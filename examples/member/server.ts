// The member server: `pnpm --filter @rpcx/examples member:server --addr 127.0.0.1:8972`.
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { ServiceUser, UserReply } from './service.js';

const { values } = parseArgs({ options: { addr: { type: 'string', default: '127.0.0.1:8972' } } });

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
// Go: s.RegisterName("ServiceUser", new(service.ServiceUser), "")
await server.register(new ServiceUser(), { name: 'ServiceUser' });
// Go: s.RegisterFunction("ServiceUserFn", service.UserReply, "")
await server.registerFunction('ServiceUserFn', UserReply);
const listener = await server.listen('tcp', values.addr!);
// Handlers first: whoever reads the line below may signal at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.shutdown().then(() => process.exit(0)));
}
console.log(`member service listening on tcp@${listener.address}`);
