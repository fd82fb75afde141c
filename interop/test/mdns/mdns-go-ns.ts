// mDNS interop with Go rpcx, run by registry-mdns.test.ts under node:test inside a private
// network namespace (`unshare -n`, loopback only, multicast routed to lo): rpcx v1.9.4's
// in-tree MDNSRegisterPlugin and NewMDNSDiscovery (grandcat/zeroconf) against
// @rpcx/registry-mdns. The Go peer is a child of this process, so it is in the namespace too
// (and refuses to use mDNS anywhere else).
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, test } from 'node:test';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { mdnsDiscovery, mdnsRegisterPlugin } from '@rpcx/registry-mdns';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, SelectMode, XClient, selectorFor } from '@rpcx/xclient';
import { runGoRegistryClient, startGoRegisteredServer, waitForList, watchGoDiscovery } from '../support/registry-peer.js';
import { Arith } from '../support/services.js';
import { MDNS_GO_TESTS } from './names.js';

const interfaces = Object.keys(networkInterfaces());
if (interfaces.length !== 1 || interfaces[0] !== 'lo') {
  process.stderr.write(`refusing to run mDNS tests outside a private network namespace (interfaces: ${interfaces.join(', ')})\n`);
  process.exit(3);
}
process.stdout.write(`namespace interfaces: ${interfaces.join(', ')}\n`);

const flags = { registry: 'mdns' as const, basePath: '' };
const cleanups: (() => Promise<unknown> | unknown)[] = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
}

describe('mdns ↔ Go rpcx', () => {
  test(MDNS_GO_TESTS[0], { timeout: 40_000 }, async () => {
    try {
      const go = await startGoRegisteredServer(flags, ['--metadata', 'weight=7', '--update-interval', '1s']);
      cleanups.push(() => go.stop());
      const d = mdnsDiscovery({ servicePath: 'Arith', timeoutMs: 300, watchIntervalMs: 500 });
      cleanups.push(() => d.close());
      const [entry] = await waitForList(d, (es) => es.some((e) => e.key === go.key), 10_000, `${go.key} in our discovery`);
      assert.equal(entry.key, go.key);
      // Go's tick adds calls and connections to the metadata; its own stays.
      assert.equal(new URLSearchParams(entry.value).get('weight'), '7');

      const client = new XClient({ servicePath: 'Arith', discovery: d, failMode: FailMode.Failover, selector: () => selectorFor(SelectMode.RoundRobin), transports: [tcpTransport()], codecs: [msgpackCodec()] });
      cleanups.push(() => client.close());
      for (let i = 1; i <= 4; i++) {
        const responseMetadata: Record<string, string> = {};
        assert.deepEqual(await client.call('Mul', { A: i, B: 7 }, { responseMetadata, timeoutMs: 5000 }), { C: 7 * i });
      }

      // SIGTERM: Go unregisters and shuts its zeroconf server down (a goodbye).
      assert.equal(await go.stop(), 0, go.stderr());
      await waitForList(d, (es) => !es.some((e) => e.key === go.key), 10_000, `${go.key} to leave`);
    } finally {
      await cleanup();
    }
  });

  test(MDNS_GO_TESTS[1], { timeout: 40_000 }, async () => {
    try {
      // Arith only: Go's discovery reads the first TXT string alone, so the whole list must
      // fit one (255 bytes), as Go's own plugin needs.
      const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
      await server.register(new Arith());
      const listener = await server.listen('tcp', '127.0.0.1:0');
      const key = `tcp@${listener.address}`;
      let stopped = false;
      cleanups.push(() => (stopped ? undefined : server.shutdown({ timeoutMs: 2000 })));
      // An instance name of its own: Go's peer announces under the host name.
      await server.use(mdnsRegisterPlugin({ serviceAddress: key, instance: 'ts-peer', updateIntervalMs: 0 }));

      const res = await runGoRegistryClient(flags, 6);
      assert.equal(res.error, undefined);
      assert.equal(res.ok, true);
      assert.deepEqual(res.discovered, [{ key, value: '' }]);
      assert.deepEqual(res.servers, [key]);
      assert.deepEqual(res.results.map((c) => c.c), [7, 14, 21, 28, 35, 42]);

      // Go's discovery sees it, then sees it go when our server shuts down (goodbye).
      const watched = watchGoDiscovery(flags, 0, 1, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // Go's first browse lists it
      await server.shutdown({ timeoutMs: 2000 });
      stopped = true;
      const lists = await watched;
      assert.deepEqual(lists.at(0), [{ key, value: '' }]);
      assert.deepEqual(lists.at(-1), []);
    } finally {
      await cleanup();
    }
  });
});
