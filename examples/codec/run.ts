// A custom codec registered under serialize type 5, as the seed article's membergob does with
// Go's gob (`share.Codecs[protocol.SerializeType(5)] = &GobCodec{}` on both sides, and
// `option.SerializeType = protocol.SerializeType(5)` on the client). Here the codec is
// `v8Codec()` from ./v8-codec.ts; the server and the client list it in `codecs`.
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { v8Codec } from './v8-codec.js';

interface Args {
  Uid: number;
}

/** What structured clone carries and JSON or msgpack would not: a Date, a Map, a bigint. */
interface Reply {
  UID: bigint;
  UserName: string;
  AddTime: Date;
  Tags: Map<string, number>;
}

class ServiceUser {
  UserInfo(args: Args): Reply {
    console.log('service:', args.Uid);
    return { UID: BigInt(args.Uid), UserName: 'Joke', AddTime: new Date(Date.UTC(2017, 6, 2)), Tags: new Map([['vip', 2]]) };
  }
}

const server = new Server({ transports: [tcpTransport()], codecs: [v8Codec()] });
await server.register(new ServiceUser());
const listener = await server.listen('tcp', '127.0.0.1:0');

const client = new XClient({
  servicePath: 'ServiceUser',
  discovery: peer2peer(`tcp@${listener.address}`),
  transports: [tcpTransport()],
  codecs: [v8Codec()],
  serializeType: 5,
});
const reply = await client.call<Reply>('UserInfo', { Uid: 999 });
console.log(`999 : ${reply.UserName}, UID ${typeof reply.UID} ${reply.UID}, AddTime ${reply.AddTime.toISOString()}, Tags ${reply.Tags instanceof Map} vip=${reply.Tags.get('vip')}`);

await client.close();
await server.shutdown();
console.log('done');
