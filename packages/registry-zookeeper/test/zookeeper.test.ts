/**
 * Against a real ZooKeeper 3.8 (Debian `zookeeper`), started by this file on loopback: the
 * registry compliance suite, then what is particular to ZooKeeper (znode types, sessions,
 * data watches, restarts).
 */
import ZooKeeper from 'zookeeper';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { keys, killChild, metadataUpdateCompliance, nextList, recordingLogger, registryCompliance, sleep, startChild, waitFor, type RegistryComplianceSetup } from '@rpcx/registry-kit/testing';
import {
  zookeeperDiscovery,
  zookeeperRegisterPlugin,
  RegistryKeyNotFoundError,
  type ZooKeeperDiscovery,
  type ZooKeeperRegisterPlugin,
} from '../src/index.js';
import { ZooKeeperServer } from './zookeeper-server.js';

const { constants } = ZooKeeper;
let zk: ZooKeeperServer;
let admin: ZooKeeper | undefined;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let testNo = 0;

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

async function connect(endpoint: string, extra: Record<string, unknown> = {}): Promise<ZooKeeper> {
  const client = new ZooKeeper({ connect: endpoint, timeout: 4000, debug_level: 0, host_order_deterministic: false, ...extra });
  const connected = new Promise((resolve) => client.once('connect', resolve));
  client.init({});
  try {
    await bounded(connected, 5000, 'admin connect');
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

/** The admin client, replaced when its session dies (a wiped server forgets it). */
async function adminClient(): Promise<ZooKeeper> {
  if (!admin) {
    admin = await connect(zk.endpoint);
    const self = admin;
    self.once('close', () => {
      if (admin === self) admin = undefined;
    });
  }
  return admin;
}

async function data(path: string): Promise<string | null> {
  try {
    const [, value] = await bounded((await adminClient()).get(path, false), 3000, `get ${path}`);
    return value ? value.toString() : '';
  } catch {
    return null;
  }
}

beforeAll(async () => {
  zk = await ZooKeeperServer.start();
  await adminClient();
}, 30_000);

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
});

afterAll(async () => {
  admin?.close();
  await zk?.destroy();
});

function basePath(): string {
  return `/rpcx_test_${++testNo}`;
}

function plugin(base: string, address: string, extra: Partial<Parameters<typeof zookeeperRegisterPlugin>[0]> = {}): ZooKeeperRegisterPlugin {
  const p = zookeeperRegisterPlugin({
    servers: [zk.endpoint],
    basePath: base,
    serviceAddress: address,
    sessionTimeoutMs: 2000,
    timeoutMs: 3000,
    ...extra,
  });
  cleanups.push(() => p.stop());
  return p;
}

function discovery(base: string, servicePath = 'Arith', extra: Partial<Parameters<typeof zookeeperDiscovery>[0]> = {}): ZooKeeperDiscovery {
  const d = zookeeperDiscovery({ servers: [zk.endpoint], basePath: base, servicePath, sessionTimeoutMs: 4000, timeoutMs: 3000, ...extra });
  cleanups.push(() => d.close());
  return d;
}

const setup: RegistryComplianceSetup = {
  name: 'zookeeper',
  plugin: ({ basePath, serviceAddress, logger, updateIntervalMs }) =>
    zookeeperRegisterPlugin({
      servers: [zk.endpoint],
      basePath,
      serviceAddress,
      logger,
      updateIntervalMs: updateIntervalMs ?? 60_000,
      sessionTimeoutMs: 2000,
      timeoutMs: 3000,
    }),
  discovery: ({ basePath, servicePath, logger }) =>
    zookeeperDiscovery({ servers: [zk.endpoint], basePath, servicePath, logger, sessionTimeoutMs: 4000, timeoutMs: 3000 }),
  writeRaw: async ({ basePath, servicePath, entries }) => {
    const client = await adminClient();
    // The dirs may be there already (a plugin of the same test made them).
    const ensure = (path: string, data: string) =>
      client.create(path, data, constants.ZOO_PERSISTENT).catch((error: Error) => {
        if (!/node exists/i.test(error.message)) throw error;
      });
    await ensure(basePath, 'rpcx_path');
    await ensure(`${basePath}/${servicePath}`, servicePath);
    for (const { key, value } of entries) await client.create(`${basePath}/${servicePath}/${key}`, Buffer.from(value), constants.ZOO_PERSISTENT);
  },
};
registryCompliance(setup);
metadataUpdateCompliance({
  ...setup,
  nodeOwner: async ({ basePath, servicePath, serverKey }) => {
    const stat = await (await adminClient()).exists(`${basePath}/${servicePath}/${serverKey}`, false);
    return stat && stat.ephemeralOwner !== '0' ? stat.ephemeralOwner : '';
  },
});

describe('zookeeper register plugin + discovery', () => {
  test('register writes the rpcx-zookeeper layout: persistent dirs, ephemeral node; stop deletes the node', async () => {
    const base = basePath();
    const p = plugin(base, 'tcp@127.0.0.1:8972');
    await p.register('Arith', {}, 'weight=10&group=g1');

    expect(await data(base)).toBe('rpcx_path');
    expect(await data(`${base}/Arith`)).toBe('Arith');
    expect(await data(`${base}/Arith/tcp@127.0.0.1:8972`)).toBe('weight=10&group=g1');
    const session = p.zookeeper!.client_id;
    expect((await (await adminClient()).exists(base, false)).ephemeralOwner).toBe('0');
    expect((await (await adminClient()).exists(`${base}/Arith`, false)).ephemeralOwner).toBe('0');
    expect((await (await adminClient()).exists(`${base}/Arith/tcp@127.0.0.1:8972`, false)).ephemeralOwner).toBe(session);

    const d = discovery(base);
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:8972', value: 'weight=10&group=g1' }]);

    const gone = nextList(d, (l) => l.length === 0, 3000);
    await p.stop();
    await gone;
    expect(await data(`${base}/Arith/tcp@127.0.0.1:8972`)).toBeNull();
    expect(await data(`${base}/Arith`)).toBe('Arith'); // the persistent dir stays, as in Go
  });

  test('nested basePath: one leading "/" dropped, missing parents created empty; updateIntervalMs 0 is persistent', async () => {
    const top = basePath().slice(1);
    const p = plugin(`${top}/deep/er`, 'tcp@127.0.0.1:8973', { updateIntervalMs: 0 });
    await p.register('Arith', {}, 'w=1');
    expect(await data(`/${top}`)).toBe('');
    expect(await data(`/${top}/deep`)).toBe('');
    expect(await data(`/${top}/deep/er`)).toBe('rpcx_path');
    expect((await (await adminClient()).exists(`/${top}/deep/er/Arith/tcp@127.0.0.1:8973`, false)).ephemeralOwner).toBe('0');
    // Discovery accepts the basePath with or without the leading slash.
    expect(keys(await discovery(`/${top}/deep/er`).getServices())).toEqual(['tcp@127.0.0.1:8973']);
    expect(keys(await discovery(`${top}/deep/er`).getServices())).toEqual(['tcp@127.0.0.1:8973']);
  });

  test('a metadata edit on a live node reaches watchers (Go does not watch data)', async () => {
    const base = basePath();
    await plugin(base, 'tcp@127.0.0.1:2101').register('Arith', {}, 'weight=1');
    const d = discovery(base);
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:2101', value: 'weight=1' }]);
    for (const weight of [5, 9]) {
      const update = nextList(d, (l) => l[0]?.value === `weight=${weight}`, 3000);
      await (await adminClient()).set(`${base}/Arith/tcp@127.0.0.1:2101`, `weight=${weight}`, -1);
      await update;
    }
  });

  test('a server process that dies without unregistering leaves when its session expires', async () => {
    const base = basePath();
    const child: ChildProcess = await startChild(fileURLToPath(new URL('./fixtures/register-child.ts', import.meta.url)), {
      servers: [zk.endpoint],
      basePath: base,
      serviceAddress: 'tcp@127.0.0.1:3001',
      sessionTimeoutMs: 2000,
      services: { Arith: 'weight=1' },
    });
    cleanups.push(() => killChild(child));
    const d = discovery(base);
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:3001']);

    const gone = nextList(d, (l) => l.length === 0, 8000);
    const killedAt = Date.now();
    await killChild(child);
    await gone;
    expect(Date.now() - killedAt).toBeLessThan(4500); // session 2 s + the server's expiry tick
  }, 30_000);

  test('an expired session is replaced and the node created again', async () => {
    const base = basePath();
    const logger = recordingLogger();
    // The shortest session the server allows (2 × tickTime).
    const p = plugin(base, 'tcp@127.0.0.1:4001', { logger, sessionTimeoutMs: 1000 });
    await p.register('Arith', {}, 'weight=7');
    const d = discovery(base, 'Arith', { sessionTimeoutMs: 10_000 });
    expect(await d.getServices()).toHaveLength(1);
    const oldSession = String(p.zookeeper!.client_id);
    const node = `${base}/Arith/tcp@127.0.0.1:4001`;

    // Stall this process (a long GC pause, a blocked event loop) for longer than the
    // session: nothing pings, the server expires the session and drops the node.
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      // busy
    }
    // On reconnect the server says "expired"; the plugin opens a new session and
    // creates the node again, owned by it.
    const owner = async () => (await (await adminClient()).exists(node, false).catch(() => undefined))?.ephemeralOwner;
    await waitFor(async () => {
      const current = await owner();
      return current !== undefined && current !== oldSession && current === String(p.zookeeper?.client_id);
    }, 8000, 'node owned by a new session', () => logger.warnings);
    expect(await data(node)).toBe('weight=7');
    // The discovery hears of the re-created node through its watch, a moment after the server.
    await waitFor(async () => (await d.getServices()).length === 1, 5000, 'the discovery lists the node again');
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:4001', value: 'weight=7' }]);
    expect(logger.warnings.some((w) => w.includes('session closed'))).toBe(true);
  }, 20_000);

  test('a garbage node fixed in place becomes a server (data watches)', async () => {
    const base = basePath();
    const dir = `${base}/Arith`;
    await (await adminClient()).create(base, 'rpcx_path', constants.ZOO_PERSISTENT);
    await (await adminClient()).create(dir, 'Arith', constants.ZOO_PERSISTENT);
    await (await adminClient()).create(`${dir}/tcp@127.0.0.1:5003`, 'weight=%zz', constants.ZOO_PERSISTENT);
    const logger = recordingLogger();
    const d = discovery(base, 'Arith', { logger });
    expect(await d.getServices()).toEqual([]);
    expect(logger.warnings.filter((w) => w.includes('tcp@127.0.0.1:5003'))).toHaveLength(1);
    const update = nextList(d, (l) => l.length === 1, 3000);
    await (await adminClient()).set(`${dir}/tcp@127.0.0.1:5003`, 'weight=3', -1);
    expect(await update).toEqual([{ key: 'tcp@127.0.0.1:5003', value: 'weight=3' }]);
  });

  test('missing service: rejects unless allowKeyNotFound, then watches for it', async () => {
    const base = basePath();
    await expect(discovery(base, 'Nothing').getServices()).rejects.toBeInstanceOf(RegistryKeyNotFoundError);
    const d = discovery(base, 'Nothing', { allowKeyNotFound: true });
    expect(await d.getServices()).toEqual([]);
    const later = nextList(d, (l) => l.length === 1, 3000);
    await plugin(base, 'tcp@127.0.0.1:7001').register('Nothing', {}, 'x=1');
    expect(keys(await later)).toEqual(['tcp@127.0.0.1:7001']);
  });

  test('bad options are refused up front', () => {
    expect(() => zookeeperRegisterPlugin({ basePath: '/x', serviceAddress: 'unix@/tmp/s.sock' })).toThrow(/cannot contain/);
    expect(() => zookeeperRegisterPlugin({ basePath: '/', serviceAddress: 'tcp@127.0.0.1:1' })).toThrow(/basePath/);
  });
});

/**
 * After an outage a change must reach a watcher within 2 s of the server serving again. The
 * change is made by a client of its own, connected afresh.
 */
async function changeArrives(d: ZooKeeperDiscovery, path: string, since: number): Promise<number> {
  const seen = nextList(d, (l) => l.some((e) => path.endsWith(`/${e.key}`)), 5000);
  const fresh = await connect(zk.endpoint);
  try {
    await fresh.create(path, 'late=1', constants.ZOO_PERSISTENT);
  } finally {
    fresh.close();
  }
  await seen;
  return Date.now() - since;
}

// Last: it stops and restarts the shared ZooKeeper.
describe('zookeeper restart', () => {
  test('discovery keeps its list while ZooKeeper is down, then resumes; the node is there again', async () => {
    const base = basePath();
    const logger = recordingLogger();
    const p = plugin(base, 'tcp@127.0.0.1:8001', { logger, updateIntervalMs: 500, sessionTimeoutMs: 2000 });
    await p.register('Arith', {}, 'weight=1');
    const d = discovery(base, 'Arith', { logger });
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001']);
    const changes: string[][] = [];
    d.watch((l) => changes.push(keys(l)));

    await zk.stop();
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001']);
      await sleep(500);
    }
    expect(changes).toEqual([]);

    await zk.start();
    const resumedMs = await changeArrives(d, `${base}/Arith/tcp@127.0.0.1:8003`, Date.now());
    expect(resumedMs).toBeLessThan(2000);
    // The plugin's node is back (same session resumed, or re-created in a new one).
    await waitFor(async () => (await data(`${base}/Arith/tcp@127.0.0.1:8001`)) !== null && p.zookeeper !== undefined, 10_000, 'node');
    // Watches are armed again: a new server and a data edit both arrive.
    const update = nextList(d, (l) => l.length === 3, 10_000);
    await plugin(base, 'tcp@127.0.0.1:8002').register('Arith', {}, 'weight=2');
    expect(keys(await update)).toEqual(['tcp@127.0.0.1:8001', 'tcp@127.0.0.1:8002', 'tcp@127.0.0.1:8003']);
    const edited = nextList(d, (l) => l.some((e) => e.value === 'weight=20'), 5000);
    await (await adminClient()).set(`${base}/Arith/tcp@127.0.0.1:8002`, 'weight=20', -1);
    await edited;
    // eslint-disable-next-line no-console
    console.log(`zookeeper restart: a change reached the watch ${resumedMs} ms after the server was serving`);
  }, 45_000);

  test('a ZooKeeper that comes back empty: new session, every node created again, discovery follows', async () => {
    const base = basePath();
    const logger = recordingLogger();
    const p = plugin(base, 'tcp@127.0.0.1:9001', { logger });
    await p.register('Arith', {}, 'weight=1');
    const d = discovery(base, 'Arith', { logger });
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:9001']);
    const oldSession = p.zookeeper!.client_id;

    await zk.wipe();
    // Our admin client would be refused by the wiped server too (it has seen newer zxids).
    admin?.close();
    admin = undefined;
    await zk.start();
    // The wiped server refuses the old session's client (it has seen newer zxids) and never
    // says "expired"; after 2 × the session timeout the plugin opens a fresh session.
    await waitFor(async () => (await data(`${base}/Arith/tcp@127.0.0.1:9001`)) === 'weight=1', 15_000, 'node back', () => logger.warnings);
    expect(await data(base)).toBe('rpcx_path');
    expect(await data(`${base}/Arith`)).toBe('Arith');
    expect(p.zookeeper!.client_id).not.toBe(oldSession);
    await waitFor(async () => keys(await d.getServices()).length === 1, 5000, 'discovery relisted');

    const update = nextList(d, (l) => l.length === 2, 10_000);
    await plugin(base, 'tcp@127.0.0.1:9002').register('Arith', {}, '');
    expect(keys(await update)).toEqual(['tcp@127.0.0.1:9001', 'tcp@127.0.0.1:9002']);
    const edited = nextList(d, (l) => l.some((e) => e.value === 'weight=5'), 5000);
    await (await adminClient()).set(`${base}/Arith/tcp@127.0.0.1:9001`, 'weight=5', -1);
    await edited;
  }, 45_000);
});
