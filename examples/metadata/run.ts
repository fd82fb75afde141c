// `state` and `group` metadata, as in the seed article's membermeta service. Two servers; the
// client's discovery lists both with metadata of its own choosing. The client skips servers
// whose metadata says `state=inactive`, and with the `group` option it calls only servers whose
// metadata has that `group`. (The metadata a server registers with reaches clients through a
// registry; with a fixed list, what counts is the metadata in the list.)
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { roundRobinSelector } from '@rpcx/selector';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, multipleServers } from '@rpcx/xclient';
import { ServiceUser } from '../member/service.js';

const servers = await Promise.all([startServer('state=inactive'), startServer('group=Member')]);
const [first, second] = servers.map((s) => `tcp@${s.address}`);

/** Call ServiceUser.UserInfo twice (round robin) through a client given `metadata` and `group`; print who answered. */
async function callWith(label: string, metadata: [string, string], group?: string) {
  const client = new XClient({
    servicePath: 'ServiceUser',
    failMode: FailMode.Failover,
    selector: roundRobinSelector,
    discovery: multipleServers([
      { key: first!, value: metadata[0] },
      { key: second!, value: metadata[1] },
    ]),
    transports: [tcpTransport()],
    codecs: [msgpackCodec()],
    group,
  });
  const answered: string[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const responseMetadata: Record<string, string> = {};
      await client.call('UserInfo', { Uid: 999 }, { responseMetadata });
      answered.push(responseMetadata.__ServerAddress === first ? 'first' : 'second');
    }
    console.log(`${label}: answered by ${[...new Set(answered)].sort().join(' and ')}`);
  } catch (err) {
    console.log(`${label}: ${(err as Error).message}`);
  } finally {
    await client.close();
  }
}

await callWith('no metadata', ['', '']);
await callWith('first inactive', ['state=inactive', '']);
await callWith('both inactive', ['state=inactive', 'state=inactive']);
await callWith('group Member', ['', 'group=Member'], 'Member');
await callWith('group Me', ['', 'group=Member'], 'Me');

await Promise.all(servers.map((s) => s.server.shutdown()));
console.log('done');

/** A member server registered with `metadata` (Go: s.RegisterName("ServiceUser", …, metadata)). */
async function startServer(metadata: string) {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
  await server.register(new ServiceUser(), { name: 'ServiceUser', metadata });
  const listener = await server.listen('tcp', '127.0.0.1:0');
  return { server, address: listener.address };
}
