// Several servers without a registry, as the seed article's membermultiple: the client is
// given the list (Go: NewMultipleServersDiscovery([]*KVPair{{Key: addr0}, {Key: addr1}})), and
// with `weight` metadata and weighted round robin (Go: client.WeightedRoundRobin) the server of
// weight 9 takes 9 calls in 10. `update()` replaces the list while the client runs.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { weightedRoundRobinSelector } from '@rpcx/selector';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, multipleServers } from '@rpcx/xclient';
import { ServiceUser } from '../member/service.js';

const servers = await Promise.all([startServer(), startServer()]);
const [first, second] = servers.map((s) => `tcp@${s.address}`) as [string, string];

const discovery = multipleServers([
  { key: first, value: 'weight=1' },
  { key: second, value: 'weight=9' },
]);
const client = new XClient({
  servicePath: 'ServiceUser',
  failMode: FailMode.Failtry,
  selector: weightedRoundRobinSelector,
  discovery,
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
});

/** Make `count` calls; how many each server answered. */
async function tally(count: number) {
  const answered = { first: 0, second: 0 };
  for (let i = 0; i < count; i++) {
    const responseMetadata: Record<string, string> = {};
    await client.call('UserInfo', { Uid: 999 }, { responseMetadata });
    answered[responseMetadata.__ServerAddress === first ? 'first' : 'second']++;
  }
  return answered;
}

const weighted = await tally(10);
console.log(`weight=1 and weight=9, 10 calls: first ${weighted.first}, second ${weighted.second}`);
discovery.update([{ key: first, value: 'weight=1' }]); // Go: MultipleServersDiscovery.Update
const updated = await tally(3);
console.log(`after update() to the first server only, 3 calls: first ${updated.first}, second ${updated.second}`);

await client.close();
await Promise.all(servers.map((s) => s.server.shutdown()));
console.log('done');

async function startServer() {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
  await server.register(new ServiceUser(), { name: 'ServiceUser' });
  const listener = await server.listen('tcp', '127.0.0.1:0');
  return { server, address: listener.address };
}
