// Fork and Broadcast, as in the seed article: one call sent to every server of the service.
// Fork succeeds with the first good reply; Broadcast needs every server to succeed. Each
// server prints what it was asked, so the output shows both servers got the call.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, multipleServers } from '@rpcx/xclient';
import type { Args, Reply } from '../member/service.js';
import { ServiceUser } from '../member/service.js';

/** The member service, printing each call as the seed's service does (`service: 999`). */
class LoggingServiceUser extends ServiceUser {
  constructor(private readonly label: string) {
    super();
  }

  override UserInfo(args: Args): Reply {
    if (args.Uid < 0) throw new Error(`no user ${args.Uid} on ${this.label}`);
    console.log(`${this.label}: service: ${args.Uid}`);
    return super.UserInfo(args);
  }
}

const servers = await Promise.all(['server 1', 'server 2'].map(startServer));
const client = new XClient({
  servicePath: 'ServiceUser',
  discovery: multipleServers(servers.map((s) => ({ key: `tcp@${s.address}`, value: '' }))),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
});

const forked = await client.fork<Reply>('UserInfo', { Uid: 999 });
console.log(`fork: ${forked.UID} : ${forked.UserName}`);
const broadcast = await client.broadcast<Reply>('UserInfo', { Uid: 888 });
console.log(`broadcast: ${broadcast.UID} : ${broadcast.UserName}`);
const failed = await client.broadcast('UserInfo', { Uid: -1 }).catch((err: Error) => err.message);
console.log(`broadcast of a call every server refuses: ${failed}`);

await Promise.all(servers.map((s) => s.server.shutdown()));
const none = await client.fork('UserInfo', { Uid: 999 }).catch((err: Error) => err.message);
console.log(`fork with both servers stopped: ${none}`);
await client.close();
console.log('done');

async function startServer(label: string) {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
  await server.register(new LoggingServiceUser(label), { name: 'ServiceUser' });
  const listener = await server.listen('tcp', '127.0.0.1:0');
  return { server, address: listener.address };
}
