// The member client: calls ServiceUser.UserInfo and the function ServiceUserFn.UserReply.
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import type { Reply, ServiceUserApi } from './service.js';

const { values } = parseArgs({ options: { addr: { type: 'string', default: '127.0.0.1:8972' } } });
const common = {
  failMode: FailMode.Failtry,
  discovery: peer2peer(`tcp@${values.addr}`),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
};

const users = new XClient({ servicePath: 'ServiceUser', ...common });
const info = await users.typed<ServiceUserApi>().UserInfo({ Uid: 999 });
console.log('999 :', info);

const fn = new XClient({ servicePath: 'ServiceUserFn', ...common });
const reply = await fn.call<Reply>('UserReply', { Uid: 888 });
console.log('888 :', reply);

await Promise.all([users.close(), fn.close()]);
