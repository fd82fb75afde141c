// The benchmark server (ts-server.ts's Hello.Say, protobuf) in --workers processes behind one
// port with @rpcx/transport-tcp's serveCluster. Prints `LISTENING tcp@…` once every worker listens.
import { parseArgs } from 'node:util';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { Server } from '@rpcx/server';
import { serveCluster, tcpTransport } from '@rpcx/transport-tcp';
import { BenchmarkMessage } from './message.js';

const { values } = parseArgs({ options: { workers: { type: 'string', default: '2' } } });

class Hello {
  Say(m: Record<string, unknown>) {
    m.field1 = 'OK';
    m.field2 = 100;
    return m;
  }
}

const handle = await serveCluster({
  workers: Number(values.workers),
  respawn: false,
  start: async () => {
    const server = new Server({ transports: [tcpTransport()], codecs: [protobufCodec({ toObject: false })] });
    await server.register(new Hello(), { schemas: { Say: { args: BenchmarkMessage, reply: BenchmarkMessage } } });
    const listener = await server.listen('tcp', '127.0.0.1:0');
    return { address: listener.address, close: () => server.close() };
  },
});
if (handle) {
  process.stdout.write(`LISTENING tcp@${handle.address}\n`);
  const stop = () => void handle.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
