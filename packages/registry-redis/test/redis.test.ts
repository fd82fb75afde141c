/**
 * Against a real redis-server 7 (Debian `redis-server`), started by this file on loopback:
 * the registry compliance suite, then what is particular to Redis (libkv's keys and JSON
 * envelope, TTLs, keyspace notifications), then outages (restarted, restarted empty, frozen).
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys, killChild, nextList, recordingLogger, registryCompliance, sleep, startChild, waitFor } from '@rpcx/registry-kit/testing';
import {
  RegistryKeyNotFoundError,
  decodeEnvelope,
  encodeEnvelope,
  normalize,
  redisDiscovery,
  redisRegisterPlugin,
  type RedisDiscovery,
  type RedisDiscoveryOptions,
  type RedisRegisterPlugin,
  type RedisRegisterPluginOptions,
} from '../src/index.js';
import { RedisServer } from './redis-server.js';

let redis: RedisServer;
let admin: Redis;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let testNo = 0;

beforeAll(async () => {
  redis = await RedisServer.start();
  admin = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  await admin.connect();
}, 30_000);

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.destroy();
});

function basePath(): string {
  return `/rpcx_test_${++testNo}`;
}

function plugin(base: string, address: string, extra: Partial<RedisRegisterPluginOptions> = {}): RedisRegisterPlugin {
  const p = redisRegisterPlugin({ address: redis.address, basePath: base, serviceAddress: address, updateIntervalMs: 1000, timeoutMs: 2000, ...extra });
  cleanups.push(() => p.stop());
  return p;
}

function discovery(base: string, servicePath = 'Arith', extra: Partial<RedisDiscoveryOptions> = {}): RedisDiscovery {
  const d = redisDiscovery({ address: redis.address, basePath: base, servicePath, timeoutMs: 2000, ...extra });
  cleanups.push(() => d.close());
  return d;
}

/** What libkv stores at the key it was given: the envelope's Key and Value (as text). */
async function stored(key: string): Promise<{ Key: string; value: string; ttlMs: number } | null> {
  const text = await admin.get(normalize(key));
  if (text === null) return null;
  const parsed = JSON.parse(text) as { Key: string; Value: string; LastIndex: number };
  expect(Object.keys(parsed)).toEqual(['Key', 'Value', 'LastIndex']);
  expect(Number.isInteger(parsed.LastIndex) && parsed.LastIndex >= 0 && parsed.LastIndex < 1e9).toBe(true);
  return { Key: parsed.Key, value: Buffer.from(parsed.Value, 'base64').toString(), ttlMs: await admin.pttl(normalize(key)) };
}

registryCompliance({
  name: 'redis',
  plugin: ({ basePath, serviceAddress, logger, updateIntervalMs }) =>
    redisRegisterPlugin({ address: redis.address, basePath, serviceAddress, logger, updateIntervalMs: updateIntervalMs ?? 5000, timeoutMs: 2000 }),
  discovery: ({ basePath, servicePath, logger }) => redisDiscovery({ address: redis.address, basePath, servicePath, logger, timeoutMs: 2000 }),
  writeRaw: async ({ basePath, servicePath, entries }) => {
    await admin.set(normalize(`${basePath}/${servicePath}`), encodeEnvelope(`${basePath}/${servicePath}`, servicePath));
    for (const { key, value } of entries) {
      const full = `${basePath}/${servicePath}/${key}`;
      await admin.set(normalize(full), encodeEnvelope(full, value));
    }
  },
});

describe('redis register plugin + discovery', () => {
  test('register writes libkv keys and envelopes: dirs without TTL, the node with 2 × updateIntervalMs; stop deletes the node', async () => {
    const base = basePath();
    const p = plugin(base, 'tcp@127.0.0.1:8972', { updateIntervalMs: 3000 });
    await p.register('Arith', {}, 'weight=10&group=g1');

    // A basePath with a leading "/" is stored under "//…", exactly as Go's libkv does.
    expect(await admin.keys(`/${base}*`)).toEqual(expect.arrayContaining([`/${base}`, `/${base}/Arith`, `/${base}/Arith/tcp@127.0.0.1:8972`]));
    expect(await stored(base)).toEqual({ Key: base, value: 'rpcx_path', ttlMs: -1 });
    expect(await stored(`${base}/Arith`)).toEqual({ Key: `${base}/Arith`, value: 'Arith', ttlMs: -1 });
    const node = await stored(`${base}/Arith/tcp@127.0.0.1:8972`);
    expect(node).toMatchObject({ Key: `${base}/Arith/tcp@127.0.0.1:8972`, value: 'weight=10&group=g1' });
    expect(node!.ttlMs).toBeGreaterThan(5000);
    expect(node!.ttlMs).toBeLessThanOrEqual(6000);

    const d = discovery(base);
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:8972', value: 'weight=10&group=g1' }]);
    const gone = nextList(d, (l) => l.length === 0, 3000);
    await p.stop();
    await gone;
    expect(await stored(`${base}/Arith/tcp@127.0.0.1:8972`)).toBeNull();
    expect(await stored(`${base}/Arith`)).not.toBeNull(); // the dirs stay, as in Go
  });

  test('the refresh renews the TTL (also with metrics off); updateIntervalMs 0 writes no TTL', async () => {
    const base = basePath();
    const p = plugin(base, 'tcp@127.0.0.1:8973', { updateIntervalMs: 300, metrics: false });
    await p.register('Arith', {}, 'w=1');
    // TTL 600 ms: without renewals the node would be gone well within 2 s.
    const d = discovery(base);
    const changes: string[][] = [];
    d.watch((l) => changes.push(keys(l)));
    await sleep(2000);
    expect(await stored(`${base}/Arith/tcp@127.0.0.1:8973`)).toMatchObject({ value: 'w=1' });
    expect(changes.filter((c) => c.length === 0)).toEqual([]);

    const forever = plugin(base, 'tcp@127.0.0.1:8974', { updateIntervalMs: 0 });
    await forever.register('Arith', {}, 'w=0');
    expect((await stored(`${base}/Arith/tcp@127.0.0.1:8974`))!.ttlMs).toBe(-1);
  });

  test('a server process killed without unregistering leaves when its node expires (2 × updateIntervalMs)', async () => {
    const base = basePath();
    const child: ChildProcess = await startChild(fileURLToPath(new URL('./fixtures/register-child.ts', import.meta.url)), {
      address: redis.address,
      basePath: base,
      serviceAddress: 'tcp@127.0.0.1:3001',
      updateIntervalMs: 500,
      services: { Arith: 'weight=1' },
    });
    cleanups.push(() => killChild(child));
    const d = discovery(base);
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:3001']);
    const gone = nextList(d, (l) => l.length === 0, 5000);
    const killedAt = Date.now();
    await killChild(child);
    await gone;
    expect(Date.now() - killedAt).toBeLessThan(2500); // TTL 1 s, renewed every 0.5 s
  }, 30_000);

  test('discovery: only keys under <basePath>/<service>/, bad envelopes skipped with one warning, missing service', async () => {
    const base = basePath();
    const put = (key: string, text: string) => admin.set(normalize(key), text);
    await put(`${base}/ArithX/tcp@127.0.0.1:5001`, encodeEnvelope(`${base}/ArithX/tcp@127.0.0.1:5001`, 'x'));
    await put(`${base}/Arith`, encodeEnvelope(`${base}/Arith`, 'Arith'));
    await put(`${base}/Arith/tcp@127.0.0.1:5002`, encodeEnvelope(`${base}/Arith/tcp@127.0.0.1:5002`, 'a'));
    await put(`${base}/Arith/tcp@127.0.0.1:5003`, 'not json');
    await put(`${base}/Arith/tcp@127.0.0.1:5004`, '{"Key":"k","Value":"%%%"}');
    const logger = recordingLogger();
    const d = discovery(base, 'Arith', { logger });
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:5002', value: 'a' }]);
    expect(logger.warnings.filter((w) => w.includes('tcp@127.0.0.1:5003'))).toEqual([expect.stringMatching(/not libkv JSON/)]);
    expect(logger.warnings.filter((w) => w.includes('tcp@127.0.0.1:5004'))).toEqual([expect.stringMatching(/not base64/)]);
    // Still watching, and the bad ones are not warned about again.
    const update = nextList(d, (l) => l.length === 2, 3000);
    await plugin(base, 'tcp@127.0.0.1:5005').register('Arith', {}, 'b');
    expect(keys(await update)).toEqual(['tcp@127.0.0.1:5002', 'tcp@127.0.0.1:5005']);
    expect(logger.warnings.filter((w) => w.includes('tcp@127.0.0.1:5003'))).toHaveLength(1);

    await expect(discovery(base, 'Nothing').getServices()).rejects.toBeInstanceOf(RegistryKeyNotFoundError);
    const nothing = discovery(base, 'Nothing', { allowKeyNotFound: true });
    expect(await nothing.getServices()).toEqual([]);
    const later = nextList(nothing, (l) => l.length === 1, 3000);
    await plugin(base, 'tcp@127.0.0.1:5006').register('Nothing', {}, 'n=1');
    expect(await later).toEqual([{ key: 'tcp@127.0.0.1:5006', value: 'n=1' }]);
  });

  test('the envelope round-trips and reads as Go writes it (field names in any case, null value)', () => {
    const text = encodeEnvelope('/a/Arith/tcp@127.0.0.1:1', 'w=1&x=<2>');
    expect(text).toMatch(/^\{"Key":"\/a\/Arith\/tcp@127.0.0.1:1","Value":"dz0xJng9PDI\+","LastIndex":\d+\}$/);
    expect(decodeEnvelope(text)).toEqual({ key: '/a/Arith/tcp@127.0.0.1:1', value: Buffer.from('w=1&x=<2>') });
    expect(decodeEnvelope('{"key":"k","value":null,"lastindex":1}')).toEqual({ key: 'k', value: Buffer.alloc(0) });
    expect(encodeEnvelope('a&b', '')).toMatch(/^\{"Key":"a\\u0026b","Value":"","LastIndex":\d+\}$/);
  });
});

/** After an outage a change must reach a watcher within 2 s of Redis answering again. */
async function changeArrives(d: RedisDiscovery, base: string, key: string, since: number): Promise<number> {
  const seen = nextList(d, (l) => l.some((e) => e.key === key), 5000);
  const fresh = new Redis({ host: '127.0.0.1', port: redis.port });
  try {
    await fresh.set(normalize(`${base}/Arith/${key}`), encodeEnvelope(`${base}/Arith/${key}`, 'late=1'));
  } finally {
    fresh.disconnect();
  }
  await seen;
  return Date.now() - since;
}

// Last: these stop, wipe and freeze the shared server.
describe('redis outages', () => {
  test('stopped and restarted on its data: the list is kept, the watch resumes within 2 s', async () => {
    const base = basePath();
    const logger = recordingLogger();
    const p = plugin(base, 'tcp@127.0.0.1:8001', { logger, updateIntervalMs: 5000 });
    await p.register('Arith', {}, 'weight=1');
    const d = discovery(base, 'Arith', { logger });
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001']);
    const changes: string[][] = [];
    d.watch((l) => changes.push(keys(l)));

    await redis.stop();
    const t0 = Date.now();
    while (Date.now() - t0 < 2500) {
      expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001']);
      await sleep(250);
    }
    expect(changes).toEqual([]);

    await redis.start();
    const resumedMs = await changeArrives(d, base, 'tcp@127.0.0.1:8002', Date.now());
    expect(resumedMs).toBeLessThan(2000);
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001', 'tcp@127.0.0.1:8002']);
    expect(logger.warnings.some((w) => w.includes('reconnecting'))).toBe(true);
    // eslint-disable-next-line no-console
    console.log(`redis restart: a change reached the watch ${resumedMs} ms after the server was back`);
  }, 45_000);

  test('restarted empty: the plugin writes everything again at once; the discovery follows', async () => {
    const base = basePath();
    const p = plugin(base, 'tcp@127.0.0.1:9001', { updateIntervalMs: 60_000 });
    await p.register('Arith', {}, 'weight=1');
    const d = discovery(base);
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:9001']);

    await redis.wipe();
    await redis.start();
    const back = Date.now();
    // Not at the next refresh (a minute away): on reconnecting.
    await waitFor(async () => (await stored(`${base}/Arith/tcp@127.0.0.1:9001`).catch(() => null))?.value === 'weight=1', 5000, 'node back');
    expect(await stored(base)).toMatchObject({ value: 'rpcx_path' });
    expect(await stored(`${base}/Arith`)).toMatchObject({ value: 'Arith' });
    const resumedMs = await changeArrives(d, base, 'tcp@127.0.0.1:9002', back);
    expect(resumedMs).toBeLessThan(2000);
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:9001', 'tcp@127.0.0.1:9002']);
  }, 45_000);

  test('frozen (SIGSTOP): the last list is served at once; after SIGCONT the watch goes on', async () => {
    const base = basePath();
    await plugin(base, 'tcp@127.0.0.1:9501', { updateIntervalMs: 5000 }).register('Arith', {}, 'w=1');
    const d = discovery(base);
    expect(await d.getServices()).toHaveLength(1);
    redis.pause();
    try {
      const t0 = Date.now();
      expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:9501']);
      expect(Date.now() - t0).toBeLessThan(100);
      await sleep(1000);
    } finally {
      redis.resume();
    }
    const resumedMs = await changeArrives(d, base, 'tcp@127.0.0.1:9502', Date.now());
    expect(resumedMs).toBeLessThan(2000);
  }, 45_000);
});
