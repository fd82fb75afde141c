// The seed article's etcd example with Arith: serve over TCP and register in etcd, with the
// key layout of Go's rpcx-etcd plugin, so Go and TypeScript clients find it.
//   pnpm --filter @rpcx/examples etcd:server --addr 127.0.0.1:8972 --etcdAddr 127.0.0.1:2379
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { etcdRegisterPlugin } from '@rpcx/registry-etcd';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { Arith } from '../arith/service.js';

const { values } = parseArgs({
  options: {
    addr: { type: 'string', default: '127.0.0.1:8972' },
    etcdAddr: { type: 'string', default: '127.0.0.1:2379' },
    base: { type: 'string', default: '/rpcx_test' },
  },
});

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
await server.register(new Arith());
const listener = await server.listen('tcp', values.addr!);

// Go: r := &serverplugin.EtcdV3RegisterPlugin{ServiceAddress: "tcp@" + *addr,
//   EtcdServers: []string{*etcdAddr}, BasePath: *basePath, Metrics: metrics.NewRegistry(),
//   UpdateInterval: time.Minute}; r.Start(); s.Plugins.Add(r)
// `use` announces the services registered so far; later ones are published as they come.
await server.use(
  etcdRegisterPlugin({
    serviceAddress: `tcp@${listener.address}`,
    endpoints: [values.etcdAddr!],
    basePath: values.base!,
    updateIntervalMs: 60_000,
  }),
);
// Handlers first: whoever reads the line below may signal at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.shutdown().then(() => process.exit(0)));
}
console.log(`Arith listening on tcp@${listener.address}, registered in etcd ${values.etcdAddr} under ${values.base}/Arith`);

// shutdown() deletes this server's key before it stops, so clients drop it at once.
