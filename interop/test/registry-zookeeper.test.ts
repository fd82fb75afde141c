// ZooKeeper registry interop with Go rpcx: rpcx v1.7.5's ZooKeeperRegisterPlugin and
// NewZookeeperDiscovery (the code rpcxio/rpcx-zookeeper carries on; libkv v0.5.1) against
// @rpcx/registry-zookeeper, in a real ZooKeeper started here.
import { createConnection } from 'node:net';
import { zookeeperDiscovery, zookeeperRegisterPlugin } from '@rpcx/registry-zookeeper';
import { ZooKeeperServer } from '../../packages/registry-zookeeper/test/zookeeper-server.js';
import { keysOf, startGoRegisteredServer } from './support/registry-peer.js';
import { registryInteropSuite } from './support/registry-suite.js';

/** The reply to a four-letter command ('' on failure). */
function fourLetter(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.end(command));
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('close', () => resolve(reply));
    socket.on('error', () => resolve(''));
  });
}

/**
 * `ruok` answers `imok` before the server takes sessions ("ZooKeeperServer not running"), and
 * Go's client (samuel/go-zookeeper) fails a request at once when its only server refuses the
 * session. `srvr` reports `Mode:` only once the server is serving.
 */
async function untilServing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fourLetter(port, 'srvr')).includes('Mode:')) {
    if (Date.now() > deadline) throw new Error(`ZooKeeper on ${port} not serving after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

registryInteropSuite(
  {
    registry: 'zookeeper',
    async start() {
      const zk = await ZooKeeperServer.start();
      await untilServing(zk.port, 20_000);
      return { endpoint: zk.endpoint, destroy: () => zk.destroy() };
    },
    discovery: (endpoint, basePath) => zookeeperDiscovery({ servers: [endpoint], basePath, servicePath: 'Arith', allowKeyNotFound: true }),
    plugin: (endpoint, basePath, serviceAddress) => zookeeperRegisterPlugin({ servers: [endpoint], basePath, serviceAddress }),
  },
  (ctx) => {
    test("Go's plugin creates its node during Register: listed as soon as the server listens", async () => {
      const basePath = '/rpcx_interop_zookeeper_now';
      const go = await startGoRegisteredServer({ registry: 'zookeeper', endpoint: ctx.endpoint(), basePath }, ['--metadata', 'weight=5']);
      ctx.defer(() => go.stop());
      // allowKeyNotFound false, as Go: the path must already exist.
      const d = zookeeperDiscovery({ servers: [ctx.endpoint()], basePath, servicePath: 'Arith' });
      ctx.defer(() => d.close());
      const entries = await d.getServices();
      expect(keysOf(entries)).toEqual([go.key]);
      expect(new URLSearchParams(entries[0].value).get('weight')).toBe('5');
    });
  },
);
