// Typed stubs from a .proto: a Greeter server and client in one process, talking rpcx over TCP on
// loopback through the code buf generated from proto/greeter/v1/greeter.proto (see buf.gen.yaml).
// No hand-written message types and no per-call schemas: the stubs carry them.
import { timestampDate, timestampNow } from '@bufbuild/protobuf/wkt';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { Server, type RequestContext } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import type { HelloRequest } from './gen/greeter/v1/greeter_pb.js';
import { GreeterService, newGreeterClient, registerGreeter, type GreeterAble } from './gen/greeter/v1/greeter_rpcx.js';

class Greeter implements GreeterAble {
  private total = 9_007_199_254_740_990n; // near 2^53, where a JS number stops being exact

  SayHello(args: HelloRequest, ctx: RequestContext) {
    if (args.times === 0) throw new Error('times must be at least 1');
    const greetings = Array.from({ length: args.times }, (_, i) => `Hello, ${args.name} (${i + 1})`);
    this.total += BigInt(args.times);
    ctx.responseMetadata.server = 'ts';
    return { greetings, greetedAt: timestampNow(), total: this.total };
  }
}

const server = new Server({ transports: [tcpTransport()], codecs: [protobufCodec()] });
await registerGreeter(server, new Greeter());
const listener = await server.listen('tcp', '127.0.0.1:0');
console.log(`server: ${GreeterService.servicePath} on tcp@${listener.address}`);

const xclient = new XClient({
  servicePath: GreeterService.servicePath,
  discovery: peer2peer(`tcp@${listener.address}`),
  transports: [tcpTransport()],
  codecs: [protobufCodec()],
  serializeType: 2, // ProtoBuffer, as Go's NewXClientForGreeter sets it
});
const greeter = newGreeterClient(xclient);

const reply = await greeter.SayHello({ name: 'Ada', times: 2 });
console.log(`client: ${reply.greetings.join('; ')}`);
const sinceGreeted = Date.now() - timestampDate(reply.greetedAt!).getTime();
console.log(`client: greeted just now: ${sinceGreeted >= 0 && sinceGreeted < 60_000}, total ${reply.total} (${typeof reply.total})`);
const again = await greeter.SayHello({ name: 'Grace', times: 3 });
console.log(`client: total ${again.total}, exact beyond 2^53: ${again.total === 9_007_199_254_740_995n}`);
const refused = await greeter.SayHello({ name: 'Nobody', times: 0 }).catch((err: Error) => err.message);
console.log(`client: times 0 refused: ${refused}`);

await xclient.close();
await server.shutdown();
console.log('done');
