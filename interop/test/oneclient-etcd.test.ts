// A OneClient over etcd discovery releases the etcd client once it and the discovery it was
// given are closed: the discovery clones it made for each service share that client, and used
// to keep it (and its connection to etcd) open for ever.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { etcdDiscovery } from '@rpcx/registry-etcd';
import { tcpTransport } from '@rpcx/transport-tcp';
import { OneClient } from '@rpcx/xclient';
import { EtcdServer } from '../../packages/registry-etcd/test/etcd-server.js';
import { allCodecs, startTsServer } from './support/services.js';

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await EtcdServer.start();
}, 30_000);
afterAll(() => etcd?.destroy());

/** This process's open TCP connections to `port` (Linux: its socket fds matched in `/proc/net/tcp*`). */
function connectionsTo(port: number): number {
  const ours = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) ours.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // rem_address is HEXIP:HEXPORT, st 01 = ESTABLISHED, the 10th field the socket inode.
      const [, , remote, state] = fields;
      if (state === '01' && remote && parseInt(remote.split(':')[1], 16) === port && ours.has(fields[9])) n++;
    }
  }
  return n;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('closing a OneClient and its discovery closes the shared etcd client', async () => {
  const { server, key } = await startTsServer();
  try {
    const basePath = '/rpcx_oneclient';
    etcd.etcdctl('put', `${basePath}/Arith/${key}`, '');
    const port = Number(etcd.endpoint.split(':')[1]);
    const discovery = etcdDiscovery({ endpoints: [etcd.endpoint], basePath, servicePath: 'Arith', allowKeyNotFound: true, timeoutMs: 5000 });
    const one = new OneClient({ discovery, transports: [tcpTransport()], codecs: allCodecs() });
    expect(await one.call('Arith', 'Mul', { A: 6, B: 7 }, { timeoutMs: 5000 })).toEqual({ C: 42 });
    await expect(one.call('Nothing', 'Mul', { A: 1, B: 1 }, { timeoutMs: 5000 })).rejects.toThrow('can not found any server');
    expect(connectionsTo(port)).toBeGreaterThan(0);

    await one.close();
    await discovery.close();
    await waitFor(() => connectionsTo(port) === 0, 'the etcd client to close its connection');
  } finally {
    await server.close();
  }
});
