// The seed article's etcd client with Arith: find every Arith server registered under the base
// path (TypeScript or Go), and call them with Failover + RoundRobin.
//   pnpm --filter @rpcx/examples etcd:client --etcdAddr 127.0.0.1:2379 --calls 4
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { etcdDiscovery } from '@rpcx/registry-etcd';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, SelectMode, XClient, selectorFor } from '@rpcx/xclient';
import type { ArithService } from '../arith/service.js';

const { values } = parseArgs({
  options: {
    etcdAddr: { type: 'string', default: '127.0.0.1:2379' },
    base: { type: 'string', default: '/rpcx_test' },
    calls: { type: 'string', default: '4' },
  },
});

// Go: d, _ := etcd_client.NewEtcdV3Discovery(*basePath, "Arith", []string{*etcdAddr}, false, nil)
const discovery = etcdDiscovery({ endpoints: [values.etcdAddr!], basePath: values.base!, servicePath: 'Arith' });
// Go: xclient := client.NewXClient("Arith", client.Failover, client.RoundRobin, d, client.DefaultOption)
const client = new XClient({
  servicePath: 'Arith',
  failMode: FailMode.Failover,
  selector: () => selectorFor(SelectMode.RoundRobin),
  discovery,
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
});
const arith = client.typed<ArithService>();

try {
  for (let i = 1; i <= Number(values.calls); i++) {
    const responseMetadata: Record<string, string> = {};
    const reply = await arith.Mul({ A: 10, B: i }, { responseMetadata });
    console.log(`=== ${responseMetadata.__ServerAddress}`);
    console.log(`10 * ${i} = ${reply.C}`);
  }
} catch (error) {
  // etcd unreachable, or no Arith server registered under the base path (Go's
  // NewEtcdV3Discovery fails in both cases too).
  console.error(`Arith.Mul failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await client.close();
  await discovery.close();
}
