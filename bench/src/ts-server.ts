// The TypeScript benchmark server: Hello.Say echoes the message with field1 "OK" and field2
// 100, as rpcx-benchmark's server does. Prints `LISTENING tcp@host:port` when ready.
import { parseArgs } from 'node:util';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { httpTransport } from '@rpcx/transport-http';
import { wsTransport } from '@rpcx/transport-ws';
import { kcpTransport } from '@rpcx/transport-kcp';
import { BenchmarkMessage } from './message.js';

const { values } = parseArgs({
  options: { addr: { type: 'string', default: '127.0.0.1:0' }, network: { type: 'string', default: 'tcp' } },
});

class Hello {
  Say(m: Record<string, unknown>) {
    m.field1 = 'OK';
    m.field2 = 100;
    return m;
  }
}

// Message instances (not plain objects) skip protobufjs' toObject/fromObject round trip.
const server = new Server({ transports: [tcpTransport(), httpTransport(), wsTransport(), kcpTransport()], codecs: [protobufCodec({ toObject: false })] });
await server.register(new Hello(), { schemas: { Say: { args: BenchmarkMessage, reply: BenchmarkMessage } } });
const listener = await server.listen(values.network!, values.addr!);
process.stdout.write(`LISTENING ${values.network}@${listener.address}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
