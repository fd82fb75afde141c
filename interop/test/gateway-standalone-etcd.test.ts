// @rpcx/gateway over a real etcd: two TS servers registered by etcdRegisterPlugin and one Go
// rpcx server registered by rpcx-etcd's plugin; the gateway finds them with etcdDiscovery,
// answers HTTP calls, and keeps answering while the Go server is SIGKILLed (its key stays in
// etcd) and a TS server shuts down (its key is removed).
import http from 'node:http';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { etcdDiscovery, etcdRegisterPlugin } from '@rpcx/registry-etcd';
import { tcpTransport } from '@rpcx/transport-tcp';
import { createGateway } from '@rpcx/gateway';
import { EtcdServer } from '../../packages/registry-etcd/test/etcd-server.js';
import { buildRegpeer, startGoRegisteredServer, waitForList } from './support/registry-peer.js';
import { startTsServer } from './support/services.js';

const mp = msgpackCodec();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BASE = '/rpcx_gateway_standalone';

function mul(port: number, a: number, b: number, servicePath = 'Arith'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { 'X-RPCX-ServicePath': servicePath, 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '3' };
    const req = http.request({ host: '127.0.0.1', port, path: '/', method: 'POST', headers, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error('HTTP call timed out')));
    req.on('error', reject);
    req.end(mp.encode({ A: a, B: b }));
  });
}

let etcd: EtcdServer;
beforeAll(async () => {
  buildRegpeer();
  etcd = await EtcdServer.start();
}, 120_000);
afterAll(async () => {
  await etcd?.destroy();
});

test('gateway in front of etcd with Go and TS servers fails over when servers die', async () => {
  const endpoint = etcd.endpoint;
  const ts = await Promise.all([startTsServer(), startTsServer()]);
  for (const s of ts) await s.server.use(etcdRegisterPlugin({ endpoints: [endpoint], basePath: BASE, serviceAddress: s.key, updateIntervalMs: 60_000 }));
  // rpcx-etcd's plugin writes the first service at its first UpdateInterval tick.
  const go = await startGoRegisteredServer({ registry: 'etcd', endpoint, basePath: BASE }, ['--update-interval', '1s']);
  const watcher = etcdDiscovery({ endpoints: [endpoint], basePath: BASE, servicePath: 'Arith', allowKeyNotFound: true });
  const gw = createGateway({
    discovery: (servicePath) => etcdDiscovery({ endpoints: [endpoint], basePath: BASE, servicePath, allowKeyNotFound: true }),
    transports: [tcpTransport()],
  });
  try {
    await waitForList(watcher, (es) => es.length === 3, 10_000, 'two TS and one Go server');
    const { port } = await gw.listen('127.0.0.1', 0);
    for (let i = 0; i < 6; i++) {
      const a = await mul(port, i, 7);
      expect(a.status).toBe(200);
      expect(a.headers['x-rpcx-messagestatustype']).toBeUndefined();
      expect(mp.decode(a.body)).toEqual({ C: i * 7 });
    }
    const xc = gw.clients.get('Arith')!;
    expect([...xc.serverList.keys()].sort()).toEqual([go.key, ...ts.map((s) => s.key)].sort());
    const disconnected = new Set<string>();
    xc.on('disconnect', (server) => disconnected.add(server));

    // A service nobody registered: no server (Go's ErrXClientNoServer text).
    const none = await mul(port, 1, 1, 'Nobody');
    expect(none.status).toBe(200);
    expect(none.headers['x-rpcx-messagestatustype']).toBe('Error');
    expect(none.headers['x-rpcx-errormessage']).toBe('can not found any server');

    const failures: string[] = [];
    let ok = 0;
    let running = true;
    let n = 0;
    const worker = async () => {
      while (running) {
        const i = n++;
        try {
          const a = await mul(port, i, 3);
          const good = a.status === 200 && a.headers['x-rpcx-messagestatustype'] === undefined;
          if (good && (mp.decode(a.body) as { C: number }).C === i * 3) ok++;
          else failures.push(`${i}: ${a.status} ${a.headers['x-rpcx-errormessage'] ?? ''}`);
        } catch (err) {
          failures.push(`${i}: ${(err as Error).message}`);
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await sleep(300);
    process.kill(go.pid, 'SIGKILL');
    await go.stop();
    await sleep(300);
    await ts[0].server.shutdown();
    await waitForList(watcher, (es) => !es.some((e) => e.key === ts[0].key), 5000, 'the TS server to leave');
    await sleep(300);
    const before = ok;
    await sleep(300);
    running = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(before);
    expect(disconnected).toEqual(new Set([go.key, ts[0].key]));
    // The killed Go server is still listed (no unregister); the closed TS one is gone.
    expect(xc.serverList.has(ts[0].key)).toBe(false);
  } finally {
    await gw.close();
    await watcher.close();
    await go.stop();
    await Promise.all(ts.map((s) => s.server.close()));
  }
}, 60_000);
