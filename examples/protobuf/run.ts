// A protobuf service, as the seed article's memberproto: ServiceUser with UserInfo and Mul over
// Protocol Buffers (serialize type 2). The messages come from proto/pb/member.proto through
// protoc-gen-es (gen/pb/member_pb.ts, `pnpm --filter @rpcx/examples protobuf:generate`); the
// server names each method's message types when it registers, the client when it calls
// (Go: the static types of args and reply, and option.SerializeType = protocol.ProtoBuffer).
// For generated typed stubs instead, see ../greeter.
import { create } from '@bufbuild/protobuf';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import {
  ArgsSchema,
  ProtoArgsSchema,
  ProtoReplySchema,
  ReplySchema,
  type Args,
  type ProtoArgs,
  type ProtoReply,
  type Reply,
} from './gen/pb/member_pb.js';

class ServiceUser {
  UserInfo(args: Args): Reply {
    console.log(`service: ${args.Id}`);
    return create(ReplySchema, { UID: args.Id, AddTime: 14990093n, UserType: 2, Uface: 'http://image.xxxx.xxx/t.gif', UserName: 'Joke' });
  }

  Mul(args: ProtoArgs): ProtoReply {
    console.log(`call: ${args.A} * ${args.B} = ${args.A * args.B}`);
    return create(ProtoReplySchema, { C: args.A * args.B });
  }
}

const server = new Server({ transports: [tcpTransport()], codecs: [protobufCodec()] });
await server.register(new ServiceUser(), {
  schemas: {
    UserInfo: { args: ArgsSchema, reply: ReplySchema },
    Mul: { args: ProtoArgsSchema, reply: ProtoReplySchema },
  },
});
const listener = await server.listen('tcp', '127.0.0.1:0');

const client = new XClient({
  servicePath: 'ServiceUser',
  failMode: FailMode.Failover,
  discovery: peer2peer(`tcp@${listener.address}`),
  transports: [tcpTransport()],
  codecs: [protobufCodec()],
  serializeType: 2, // ProtoBuffer
});
const product = await client.call<ProtoReply>('Mul', { A: 10, B: 20 }, { schema: { args: ProtoArgsSchema, reply: ProtoReplySchema } });
const user = await client.call<Reply>('UserInfo', { Id: 999n }, { schema: { args: ArgsSchema, reply: ReplySchema } });
console.log(`10 * 20 = ${product.C}`);
console.log(`999 : UID:${user.UID} AddTime:${user.AddTime} UserType:${user.UserType} Uface:"${user.Uface}" UserName:"${user.UserName}"`);

await client.close();
await server.shutdown();
console.log('done');
