/**
 * Against a real etcd 3.4 (Debian `etcd-server`), started by this file on loopback: the
 * registry compliance suite, then what is particular to etcd (leases, restarts).
 */
import { Etcd3 } from 'etcd3';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { keys, killChild, metadataUpdateCompliance, nextList, recordingLogger, registryCompliance, sleep, startChild, waitFor, type RegistryComplianceSetup } from '@rpcx/registry-kit/testing';
import { etcdDiscovery, etcdRegisterPlugin, RegistryKeyNotFoundError, type EtcdRegisterPlugin, type EtcdDiscovery } from '../src/index.js';
import { EtcdServer } from './etcd-server.js';

let etcd: EtcdServer;
let admin: Etcd3;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let testNo = 0;

beforeAll(async () => {
  etcd = await EtcdServer.start();
  admin = new Etcd3({ hosts: `http://${etcd.endpoint}` });
}, 30_000);

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
});

afterAll(async () => {
  admin?.close();
  await etcd?.destroy();
});

/** A base path of its own for each test, so no test sees another's keys. */
function basePath(): string {
  return `/rpcx_test_${++testNo}`;
}

function plugin(base: string, address: string, extra: Partial<Parameters<typeof etcdRegisterPlugin>[0]> = {}): EtcdRegisterPlugin {
  const p = etcdRegisterPlugin({
    endpoints: [etcd.endpoint],
    basePath: base,
    serviceAddress: address,
    updateIntervalMs: 0,
    leaseTtlSeconds: 2,
    timeoutMs: 2000,
    ...extra,
  });
  cleanups.push(() => p.stop());
  return p;
}

function discovery(base: string, servicePath = 'Arith', extra: Partial<Parameters<typeof etcdDiscovery>[0]> = {}): EtcdDiscovery {
  const d = etcdDiscovery({ endpoints: [etcd.endpoint], basePath: base, servicePath, timeoutMs: 2000, ...extra });
  cleanups.push(() => d.close());
  return d;
}

const setup: RegistryComplianceSetup = {
  name: 'etcd',
  plugin: ({ basePath, serviceAddress, logger, updateIntervalMs }) =>
    etcdRegisterPlugin({
      endpoints: [etcd.endpoint],
      basePath,
      serviceAddress,
      logger,
      updateIntervalMs: updateIntervalMs ?? 0,
      leaseTtlSeconds: 2,
      timeoutMs: 2000,
    }),
  discovery: ({ basePath, servicePath, logger }) =>
    etcdDiscovery({ endpoints: [etcd.endpoint], basePath, servicePath, logger, timeoutMs: 2000 }),
  writeRaw: async ({ basePath, servicePath, entries }) => {
    await admin.put(`${basePath}/${servicePath}`).value(servicePath);
    for (const { key, value } of entries) await admin.put(`${basePath}/${servicePath}/${key}`).value(Buffer.from(value));
  },
};
registryCompliance(setup);
metadataUpdateCompliance({
  ...setup,
  nodeOwner: async ({ basePath, servicePath, serverKey }) => {
    const { kvs } = await admin.get(`${basePath}/${servicePath}/${serverKey}`).exec();
    return kvs[0] && kvs[0].lease !== '0' ? String(kvs[0].lease) : '';
  },
});

describe('etcd register plugin + discovery', () => {
  test('register writes the rpcx-etcd layout on one lease; stop revokes it', async () => {
    const base = basePath();
    const p = plugin(base, 'tcp@127.0.0.1:8972');
    await p.register('Arith', {}, 'weight=10&group=g1');

    const stored = await admin.getAll().prefix(base).strings();
    expect(stored).toEqual({
      [base]: 'rpcx_path',
      [`${base}/Arith`]: 'Arith',
      [`${base}/Arith/tcp@127.0.0.1:8972`]: 'weight=10&group=g1',
    });
    // Every key hangs on the plugin's lease, as Go's store puts them.
    const leaseId = await p.leaseId();
    expect(leaseId).toMatch(/^\d+$/);
    const res = await admin.getAll().prefix(base).exec();
    expect(res.kvs).toHaveLength(3);
    for (const kv of res.kvs) expect(String(kv.lease)).toBe(leaseId);

    const d = discovery(base);
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:8972', value: 'weight=10&group=g1' }]);

    // stop() deletes the node and revokes the lease: the dir keys go at once too.
    const gone = nextList(d, (l) => l.length === 0, 3000);
    await p.stop();
    await gone;
    expect(await admin.getAll().prefix(base).keys()).toEqual([]);
  });

  test('a unix@/path server key (slashes and all) is listed', async () => {
    const base = basePath();
    await plugin(base, 'unix@/tmp/rpcx.sock').register('Arith', {}, 'w=1');
    expect(await discovery(base).getServices()).toEqual([{ key: 'unix@/tmp/rpcx.sock', value: 'w=1' }]);
  });

  test('a server process that dies without unregistering leaves within the lease TTL', async () => {
    const base = basePath();
    const child: ChildProcess = await startChild(fileURLToPath(new URL('./fixtures/register-child.ts', import.meta.url)), {
      endpoints: [etcd.endpoint],
      basePath: base,
      serviceAddress: 'tcp@127.0.0.1:3001',
      leaseTtlSeconds: 2,
      updateIntervalMs: 0,
      services: { Arith: 'weight=1' },
    });
    cleanups.push(() => killChild(child));
    const d = discovery(base);
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:3001']);

    const gone = nextList(d, (l) => l.length === 0, 6000);
    const killedAt = Date.now();
    await killChild(child);
    await gone;
    const elapsed = Date.now() - killedAt;
    expect(elapsed).toBeLessThan(4500); // TTL 2 s, plus etcd's expiry tick
  }, 30_000);

  test('a lost lease is re-granted and every key written again', async () => {
    const base = basePath();
    const logger = recordingLogger();
    const p = plugin(base, 'tcp@127.0.0.1:4001', { logger });
    await p.register('Arith', {}, 'weight=7');
    const oldLease = await p.leaseId();
    const d = discovery(base);
    await d.getServices();

    // Revoking it from outside deletes the keys; the next keepalive tells the plugin.
    etcd.etcdctl('lease', 'revoke', BigInt(oldLease!).toString(16));
    await waitFor(async () => (await d.getServices()).length === 0, 3000, 'keys revoked');
    const back = await nextList(d, (l) => l.length === 1, 5000);
    expect(back).toEqual([{ key: 'tcp@127.0.0.1:4001', value: 'weight=7' }]);
    expect(await p.leaseId()).not.toBe(oldLease);
    expect(await admin.get(base).string()).toBe('rpcx_path');
    expect(await admin.get(`${base}/Arith`).string()).toBe('Arith');
    expect(logger.warnings.some((w) => w.includes('lease lost'))).toBe(true);
  }, 20_000);

  test('the plugin re-creates its node when it vanished (Go refresh behaviour)', async () => {
    const base = basePath();
    const p = plugin(base, 'tcp@127.0.0.1:6101', { updateIntervalMs: 200, metrics: false });
    await p.register('Arith', {}, 'weight=1');
    await admin.delete().key(`${base}/Arith/tcp@127.0.0.1:6101`);
    await waitFor(async () => (await admin.get(`${base}/Arith/tcp@127.0.0.1:6101`).string()) === 'weight=1', 3000, 'node back');
  });

  test('missing service: rejects unless allowKeyNotFound, and is watched for', async () => {
    const base = basePath();
    await expect(discovery(base, 'Nothing').getServices()).rejects.toBeInstanceOf(RegistryKeyNotFoundError);
    const d = discovery(base, 'Nothing', { allowKeyNotFound: true });
    expect(await d.getServices()).toEqual([]);

    const later = nextList(d, (l) => l.length === 1, 3000);
    await plugin(base, 'tcp@127.0.0.1:7001').register('Nothing', {}, 'x=1');
    expect(keys(await later)).toEqual(['tcp@127.0.0.1:7001']);
  });

  test('a frozen etcd: the last list is served at once', async () => {
    const base = basePath();
    await plugin(base, 'tcp@127.0.0.1:7501', { leaseTtlSeconds: 10 }).register('Arith', {}, '');
    const d = discovery(base);
    expect(await d.getServices()).toHaveLength(1);
    etcd.pause();
    try {
      const t0 = Date.now();
      expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:7501']);
      expect(Date.now() - t0).toBeLessThan(100);
    } finally {
      etcd.resume();
    }
  });
});

/**
 * After an outage a change must reach a watcher within 2 s of etcd answering again. The change
 * is made by a client of its own, connected afresh.
 */
async function changeArrives(d: EtcdDiscovery, key: string, since: number): Promise<number> {
  const seen = nextList(d, (l) => l.some((e) => key.endsWith(`/${e.key}`)), 5000);
  const fresh = new Etcd3({ hosts: `http://${etcd.endpoint}` });
  try {
    await fresh.put(key).value('late=1');
  } finally {
    fresh.close();
  }
  await seen;
  return Date.now() - since;
}

// Last: it stops and restarts the shared etcd.
describe('etcd restart', () => {
  test('discovery keeps its list while etcd is down, then resumes; the plugin registers again', async () => {
    const base = basePath();
    const logger = recordingLogger();
    const p = plugin(base, 'tcp@127.0.0.1:8001', { logger, updateIntervalMs: 500 });
    await p.register('Arith', {}, 'weight=1');
    const d = discovery(base, 'Arith', { logger });
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001']);
    const changes: string[][] = [];
    d.watch((l) => changes.push(keys(l)));
    const oldLease = await p.leaseId();

    await etcd.stop();
    // Down for longer than 2 × TTL: the plugin's lease is given up client-side.
    const downFor = 5000;
    const t0 = Date.now();
    while (Date.now() - t0 < downFor) {
      expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001']);
      await sleep(500);
    }
    expect(changes).toEqual([]); // never emptied because of the outage

    await etcd.start();
    const resumedMs = await changeArrives(d, `${base}/Arith/tcp@127.0.0.1:8003`, Date.now());
    expect(resumedMs).toBeLessThan(2000);
    const restartedAt = Date.now();
    // The plugin re-grants a lease and writes its keys again.
    await waitFor(async () => {
      const id = await p.leaseId();
      return id !== undefined && id !== oldLease;
    }, 10_000, 'new lease');
    const reRegisteredMs = Date.now() - restartedAt;

    // The discovery watches on: a server registered after the restart shows up.
    const update = nextList(d, (l) => l.length === 3, 10_000);
    await plugin(base, 'tcp@127.0.0.1:8002').register('Arith', {}, 'weight=2');
    expect(keys(await update)).toEqual(['tcp@127.0.0.1:8001', 'tcp@127.0.0.1:8002', 'tcp@127.0.0.1:8003']);

    // The old lease (restored by etcd with a fresh TTL) expires; our keys moved off it.
    await sleep(3000);
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001', 'tcp@127.0.0.1:8002', 'tcp@127.0.0.1:8003']);
    expect(await admin.get(`${base}/Arith/tcp@127.0.0.1:8001`).string()).toMatch(/weight=1/);
    // eslint-disable-next-line no-console
    console.log(`etcd restart: a change reached the watch ${resumedMs} ms after etcd was back; re-registered after ${reRegisteredMs} ms`);
  }, 45_000);

  test('an etcd that comes back empty: the plugin writes everything again, the discovery follows', async () => {
    const base = basePath();
    const logger = recordingLogger();
    const p = plugin(base, 'tcp@127.0.0.1:9001', { logger });
    await p.register('Arith', {}, 'weight=1');
    const d = discovery(base, 'Arith', { logger });
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:9001']);

    await etcd.wipe();
    await etcd.start();
    const resumedMs = await changeArrives(d, `${base}/Arith/tcp@127.0.0.1:9003`, Date.now());
    expect(resumedMs).toBeLessThan(2000);
    // etcd answers the keepalive with "no such lease": a new lease, every key written again.
    await waitFor(async () => (await admin.get(`${base}/Arith/tcp@127.0.0.1:9001`).string()) === 'weight=1', 10_000, 'node back');
    expect(await admin.get(base).string()).toBe('rpcx_path');
    expect(await admin.get(`${base}/Arith`).string()).toBe('Arith');
    await waitFor(async () => keys(await d.getServices()).length === 2, 5000, 'discovery relisted');

    // The new etcd's revisions start again at 1; the discovery must watch from there.
    const update = nextList(d, (l) => l.length === 3, 10_000);
    await plugin(base, 'tcp@127.0.0.1:9002').register('Arith', {}, '');
    expect(keys(await update)).toEqual(['tcp@127.0.0.1:9001', 'tcp@127.0.0.1:9002', 'tcp@127.0.0.1:9003']);
    // The watch was started afresh: either on reconnecting (the revision went back) or because
    // the new etcd cancelled the old watch (a revision it never had), whichever came first.
    expect({ warnings: logger.warnings, rewatched: logger.warnings.some((w) => w.includes('watching again')) }).toMatchObject({ rewatched: true });
  }, 45_000);
});
