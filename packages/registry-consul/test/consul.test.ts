/**
 * Against a real Consul agent (v1.14.11, built by scripts/build-consul.sh), started by this
 * file on loopback with `session_ttl_min = "1s"`: the registry compliance suite, what is
 * particular to Consul (flags, sessions), then outages (stopped, restarted empty, frozen).
 * `ConsulStandIn` serves only what an agent cannot show: the exact requests on the wire.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { keys, killChild, metadataUpdateCompliance, nextList, recordingLogger, registryCompliance, sleep, startChild, waitFor, type RegistryComplianceSetup } from '@rpcx/registry-kit/testing';
import {
  LOCK_FLAG_VALUE,
  consulDiscovery,
  consulRegisterPlugin,
  type ConsulDiscovery,
  type ConsulDiscoveryOptions,
  type ConsulRegisterPlugin,
  type ConsulRegisterPluginOptions,
} from '../src/index.js';
import { ConsulAgent } from './consul-agent.js';
import { ConsulStandIn } from './consul-standin.js';

let agent: ConsulAgent;
let address: string;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let testNo = 0;
const run = Date.now().toString(36);

beforeAll(async () => {
  agent = await ConsulAgent.start();
  address = agent.address;
}, 60_000);

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
});

afterAll(async () => {
  await agent?.destroy();
});

function basePath(): string {
  return `/rpcx_consul_${run}_${++testNo}`;
}

/** A Consul key: no leading `/`, as the plugin writes it. */
const kvKey = (path: string) => path.replace(/^\//, '');

/** Plain HTTP to the agent, bypassing the package. */
async function http(method: string, path: string, body?: string | Uint8Array, at = address): Promise<{ status: number; text: string; index: string | null }> {
  const base = /^https?:\/\//.test(at) ? at : `http://${at}`;
  const res = await fetch(`${base}${path}`, { method, body, signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text(), index: res.headers.get('x-consul-index') };
}

const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

interface RawPair {
  Key: string;
  Value: string | null;
  Session?: string;
  /** Exactly as written in the response (a uint64 does not fit a JS number). */
  flags: string;
}

/** `GET /v1/kv/<prefix>?recurse`, flags read from the raw JSON text (compact or pretty). */
async function listRaw(prefix: string): Promise<RawPair[]> {
  const res = await http('GET', `/v1/kv/${encodeKey(prefix)}?recurse`);
  if (res.status === 404) return [];
  const pairs = JSON.parse(res.text) as RawPair[];
  const flags = [...res.text.matchAll(/"Flags":\s*(\d+)/g)].map((m) => m[1]);
  return pairs.map((p, i) => ({
    Key: p.Key,
    Value: p.Value === null ? null : Buffer.from(p.Value, 'base64').toString(),
    ...(p.Session ? { Session: p.Session } : {}),
    flags: flags[i],
  }));
}

async function sessionInfo(id: string): Promise<Record<string, unknown> | undefined> {
  const res = await http('GET', `/v1/session/info/${id}`);
  return (JSON.parse(res.text) as Record<string, unknown>[] | null)?.[0];
}

function plugin(base: string, serviceAddress: string, extra: Partial<ConsulRegisterPluginOptions> = {}): ConsulRegisterPlugin {
  const p = consulRegisterPlugin({ address, basePath: base, serviceAddress, updateIntervalMs: 1000, expiredMs: 1000, timeoutMs: 2000, ...extra });
  cleanups.push(() => p.stop());
  return p;
}

function discovery(base: string, servicePath = 'Arith', extra: Partial<ConsulDiscoveryOptions> = {}): ConsulDiscovery {
  const d = consulDiscovery({ address, basePath: base, servicePath, timeoutMs: 2000, waitTimeMs: 5000, ...extra });
  cleanups.push(() => d.close());
  return d;
}

/** Consul's answer to a write, compact or pretty-printed (`-dev` mode adds a newline). */
const answer = (res: { text: string }) => res.text.trim();

const setup: RegistryComplianceSetup = {
  name: 'consul agent v1.14.11',
  plugin: ({ basePath, serviceAddress, logger, updateIntervalMs }) =>
    // The session TTL is (updateIntervalMs + expiredMs) / 2: at least 1 s, the agent's minimum here.
    consulRegisterPlugin({ address, basePath, serviceAddress, logger, updateIntervalMs: updateIntervalMs ?? 1000, expiredMs: 2000, timeoutMs: 2000 }),
  discovery: ({ basePath, servicePath, logger }) => consulDiscovery({ address, basePath, servicePath, logger, timeoutMs: 2000, waitTimeMs: 5000 }),
  writeRaw: async ({ basePath, servicePath, entries }) => {
    const dir = `${kvKey(basePath)}/${servicePath}`;
    expect(answer(await http('PUT', `/v1/kv/${encodeKey(dir)}`, servicePath))).toBe('true');
    for (const { key, value } of entries) expect(answer(await http('PUT', `/v1/kv/${encodeKey(`${dir}/${key}`)}`, value))).toBe('true');
  },
};
registryCompliance(setup);
metadataUpdateCompliance({
  ...setup,
  nodeOwner: async ({ basePath, servicePath, serverKey }) => (await listRaw(`${kvKey(basePath)}/${servicePath}/${serverKey}`))[0]?.Session ?? '',
});

describe('consul register plugin + discovery', () => {
  test('layout: keys without the leading "/", LockFlagValue flags, the node held by a delete session; stop', async () => {
    const base = basePath();
    const dir = kvKey(base);
    const p = plugin(base, 'tcp@127.0.0.1:8972');
    await p.register('Arith', {}, 'weight=10&group=g1');
    const session = p.session!;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);

    expect(await listRaw(dir)).toEqual([
      { Key: dir, Value: 'rpcx_path', flags: LOCK_FLAG_VALUE },
      { Key: `${dir}/Arith`, Value: 'Arith', flags: LOCK_FLAG_VALUE },
      { Key: `${dir}/Arith/tcp@127.0.0.1:8972`, Value: 'weight=10&group=g1', Session: session, flags: LOCK_FLAG_VALUE },
    ]);
    // Node TTL = 1000 + 1000 ms; Consul's session TTL is half of it.
    expect(await sessionInfo(session)).toMatchObject({ ID: session, Behavior: 'delete', TTL: '1s', LockDelay: 1_000_000 });

    const d = discovery(base);
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:8972', value: 'weight=10&group=g1' }]);

    const gone = nextList(d, (l) => l.length === 0, 3000);
    await p.stop();
    await gone;
    expect(await sessionInfo(session)).toBeUndefined(); // destroyed, not left to expire
    expect((await listRaw(dir)).map((pair) => pair.Key)).toEqual([dir, `${dir}/Arith`]); // the dirs stay, as in Go
  });

  // The one thing an agent cannot show: the exact requests. The stand-in logs them.
  test('on the wire (stand-in): session create body, acquire with flags, blocking list with index and wait', async () => {
    const standIn = await ConsulStandIn.start({ sessionTtlMinMs: 1000 });
    cleanups.push(() => standIn.destroy());
    const base = basePath();
    const dir = kvKey(base);
    const p = plugin(base, 'tcp@127.0.0.1:8973', { address: standIn.address });
    await p.register('Arith', {}, 'w=1');
    const d = discovery(base, 'Arith', { address: standIn.address });
    await d.getServices();
    await waitFor(() => standIn.requests.some((r) => r.query.index !== undefined), 3000, 'a blocking query');
    const seen = standIn.requests.map((r) => ({ ...r, body: r.method === 'PUT' && r.path.startsWith('/v1/session/create') ? JSON.parse(r.body) : r.body }));

    expect(seen.filter((r) => r.path === '/v1/session/create')).toEqual([
      { method: 'PUT', path: '/v1/session/create', query: {}, body: { LockDelay: '1ms', Name: 'rpcx tcp@127.0.0.1:8973', Behavior: 'delete', TTL: '1s' } },
    ]);
    const kvPuts = seen.filter((r) => r.method === 'PUT' && r.path.startsWith('/v1/kv/'));
    expect(kvPuts.map((r) => [decodeURIComponent(r.path.slice('/v1/kv/'.length)), r.query, r.body])).toEqual([
      [dir, { flags: LOCK_FLAG_VALUE }, 'rpcx_path'],
      [dir, { flags: LOCK_FLAG_VALUE }, 'rpcx_path'],
      [`${dir}/Arith`, { flags: LOCK_FLAG_VALUE }, 'Arith'],
      [`${dir}/Arith/tcp@127.0.0.1:8973`, { flags: LOCK_FLAG_VALUE, acquire: p.session }, 'w=1'],
    ]);
    const blocking = seen.find((r) => r.query.index !== undefined)!;
    expect(decodeURIComponent(blocking.path)).toBe(`/v1/kv/${dir}/Arith`);
    expect(blocking.query).toEqual({ recurse: 'true', index: expect.stringMatching(/^[1-9]\d*$/), wait: '5s' });
  });

  test('updateIntervalMs 0: a plain node without a session, left behind by a dead server as in Go', async () => {
    const base = basePath();
    const dir = kvKey(base);
    const p = plugin(base, 'tcp@127.0.0.1:8974', { updateIntervalMs: 0 });
    await p.register('Arith', {}, 'w=0');
    expect(p.session).toBeUndefined();
    expect((await listRaw(`${dir}/Arith/`))).toEqual([{ Key: `${dir}/Arith/tcp@127.0.0.1:8974`, Value: 'w=0', flags: LOCK_FLAG_VALUE }]);
    await p.stop();
    expect(await listRaw(`${dir}/Arith/`)).toEqual([]);
  });

  test('a server process killed without unregistering: its session lapses and Consul deletes the node', async () => {
    const base = basePath();
    const child: ChildProcess = await startChild(fileURLToPath(new URL('./fixtures/register-child.ts', import.meta.url)), {
      address,
      basePath: base,
      serviceAddress: 'tcp@127.0.0.1:3001',
      updateIntervalMs: 1000,
      expiredMs: 1000,
      services: { Arith: 'weight=1' },
    });
    cleanups.push(() => killChild(child));
    const d = discovery(base);
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:3001']);

    const gone = nextList(d, (l) => l.length === 0, 8000);
    const killedAt = Date.now();
    await killChild(child);
    await gone;
    const elapsed = Date.now() - killedAt;
    // Session TTL 1 s, invalidated 2 s after its last renewal (renewed every 0.5 s); Consul's
    // timer and the delete take a moment more.
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(3500);
  }, 30_000);

  test('a destroyed session: a new one is created and the node written again', async () => {
    const base = basePath();
    const logger = recordingLogger();
    const p = plugin(base, 'tcp@127.0.0.1:4001', { logger });
    await p.register('Arith', {}, 'weight=7');
    const old = p.session!;
    const d = discovery(base);
    expect(await d.getServices()).toHaveLength(1);

    const gone = nextList(d, (l) => l.length === 0, 3000);
    expect(answer(await http('PUT', `/v1/session/destroy/${old}`))).toBe('true');
    await gone; // Behavior delete: the node went with the session
    const back = await nextList(d, (l) => l.length === 1, 5000);
    expect(back).toEqual([{ key: 'tcp@127.0.0.1:4001', value: 'weight=7' }]);
    expect(p.session).not.toBe(old);
    const [node] = await listRaw(`${kvKey(base)}/Arith/`);
    expect(node.Session).toBe(p.session);
    expect(logger.warnings.some((w) => w.includes(`session ${old} is gone`))).toBe(true);
  }, 15_000);

  test('a node held by another session is written, then taken over once that session ends', async () => {
    const base = basePath();
    const node = `${kvKey(base)}/Arith/tcp@127.0.0.1:4101`;
    const foreign = JSON.parse((await http('PUT', '/v1/session/create', JSON.stringify({ Behavior: 'release', TTL: '10s', LockDelay: '1ms' }))).text).ID as string;
    cleanups.push(() => http('PUT', `/v1/session/destroy/${foreign}`));
    expect(answer(await http('PUT', `/v1/kv/${encodeKey(node)}?acquire=${foreign}`, 'old'))).toBe('true');

    const logger = recordingLogger();
    const p = plugin(base, 'tcp@127.0.0.1:4101', { logger, updateIntervalMs: 300, expiredMs: 2000, metrics: false });
    await p.register('Arith', {}, 'new');
    expect(await listRaw(node)).toEqual([{ Key: node, Value: 'new', Session: foreign, flags: LOCK_FLAG_VALUE }]);
    expect(logger.warnings.filter((w) => w.includes('held by another session'))).toHaveLength(1);

    await http('PUT', `/v1/session/destroy/${foreign}`);
    await waitFor(async () => (await listRaw(node))[0]?.Session === p.session, 3000, 'taken over');
    expect((await listRaw(node))[0].Value).toBe('new');
  });

  test('discovery: only keys under <basePath>/<service>/, and a missing service is an empty list (as Go)', async () => {
    const base = basePath();
    const dir = kvKey(base);
    await http('PUT', `/v1/kv/${encodeKey(`${dir}/ArithX/tcp@127.0.0.1:5001`)}`, 'x');
    await http('PUT', `/v1/kv/${encodeKey(`${dir}/Arith/tcp@127.0.0.1:5002`)}`, 'a');
    expect(await discovery(base).getServices()).toEqual([{ key: 'tcp@127.0.0.1:5002', value: 'a' }]);
    // The basePath may be given with or without its leading "/".
    expect(await discovery(dir, 'Arith').getServices()).toEqual([{ key: 'tcp@127.0.0.1:5002', value: 'a' }]);

    const nothing = discovery(base, 'Nothing');
    expect(await nothing.getServices()).toEqual([]);
    const later = nextList(nothing, (l) => l.length === 1, 3000);
    await plugin(base, 'tcp@127.0.0.1:5003').register('Nothing', {}, 'n=1');
    expect(await later).toEqual([{ key: 'tcp@127.0.0.1:5003', value: 'n=1' }]);
  });

  test('an agent answering garbage: getServices rejects at once, nothing hangs, close() returns', async () => {
    const garbage = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not consul</html>'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => garbage.close(resolve)));
    const logger = recordingLogger();
    const d = discovery(basePath(), 'Arith', { address: `127.0.0.1:${(garbage.address() as { port: number }).port}`, logger });
    const t0 = Date.now();
    await expect(d.getServices()).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(2000);
    await d.close();
    expect(logger.warnings.some((w) => w.includes('keeping the last list'))).toBe(true);
  });
});

/**
 * After an outage a change must reach a watcher within 2 s of the agent answering again:
 * the discovery's retry back-off is capped at 1 s.
 */
async function changeArrives(d: ConsulDiscovery, base: string, key: string, since: number): Promise<number> {
  const seen = nextList(d, (l) => l.some((e) => e.key === key), 5000);
  expect(answer(await http('PUT', `/v1/kv/${encodeKey(`${kvKey(base)}/Arith/${key}`)}`, 'late=1'))).toBe('true');
  await seen;
  return Date.now() - since;
}

// Last: these stop, wipe and freeze the shared agent.
describe('consul agent outages', () => {
  test('stopped and restarted on its data dir: the list is kept, the session survives, the watch resumes within 2 s', async () => {
    const base = basePath();
    const logger = recordingLogger();
    // Node TTL 10 s: the session (TTL 5 s) lives 10 s past its last renewal, longer than the outage.
    const p = plugin(base, 'tcp@127.0.0.1:8001', { logger, updateIntervalMs: 1000, expiredMs: 9000 });
    await p.register('Arith', {}, 'weight=1');
    const session = p.session;
    const d = discovery(base, 'Arith', { logger });
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001']);
    const changes: string[][] = [];
    d.watch((l) => changes.push(keys(l)));

    await agent.stop();
    const t0 = Date.now();
    while (Date.now() - t0 < 2500) {
      expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001']);
      await sleep(250);
    }
    expect(changes).toEqual([]);
    expect(logger.warnings.some((w) => w.includes('keeping the last list'))).toBe(true);
    expect(logger.warnings.filter((w) => w.includes(`cannot renew session ${session}`))).not.toEqual([]);

    await agent.start();
    const resumedMs = await changeArrives(d, base, 'tcp@127.0.0.1:8002', Date.now());
    expect(resumedMs).toBeLessThan(2000);
    expect(p.session).toBe(session); // renewed in time: never lost
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8001', 'tcp@127.0.0.1:8002']);
    // eslint-disable-next-line no-console
    console.log(`consul restart: a change reached the watch ${resumedMs} ms after the agent was back`);
  }, 60_000);

  test('restarted empty: a new session, every key written again; the watch follows the new store', async () => {
    const base = basePath();
    const logger = recordingLogger();
    // No rates: a refresh tick after the re-write would add calls=…&connections=… to the values
    // checked below (seen once in CI).
    const p = plugin(base, 'tcp@127.0.0.1:9001', { logger, metrics: false });
    await p.register('Arith', {}, 'weight=1');
    const old = p.session;
    const d = discovery(base, 'Arith', { logger });
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:9001']);

    await agent.wipe();
    await agent.start();
    // The new store's index starts low again: the discovery must not wait for the old one.
    const resumedMs = await changeArrives(d, base, 'tcp@127.0.0.1:9002', Date.now());
    expect(resumedMs).toBeLessThan(2000);
    // The renewal gets 404: a new session, and the node and its dirs are written again.
    await waitFor(async () => (await listRaw(`${kvKey(base)}/Arith/`)).length === 2, 10_000, 'node back', () => logger.warnings);
    expect((await listRaw(kvKey(base))).map((pair) => [pair.Key, pair.Value])).toEqual([
      [kvKey(base), 'rpcx_path'],
      [`${kvKey(base)}/Arith`, 'Arith'],
      [`${kvKey(base)}/Arith/tcp@127.0.0.1:9001`, 'weight=1'],
      [`${kvKey(base)}/Arith/tcp@127.0.0.1:9002`, 'late=1'],
    ]);
    expect(p.session).not.toBe(old);
    await waitFor(async () => keys(await d.getServices()).length === 2, 5000, 'discovery follows');
    // eslint-disable-next-line no-console
    console.log(`consul wiped: a change reached the watch ${resumedMs} ms after the agent was back`);
  }, 60_000);

  test('frozen (SIGSTOP): the last list is served at once; after SIGCONT everything goes on', async () => {
    const base = basePath();
    const p = plugin(base, 'tcp@127.0.0.1:9501', { updateIntervalMs: 1000, expiredMs: 9000 });
    await p.register('Arith', {}, 'w=1');
    const session = p.session;
    const d = discovery(base);
    expect(await d.getServices()).toHaveLength(1);
    agent.pause();
    try {
      const t0 = Date.now();
      expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:9501']);
      expect(Date.now() - t0).toBeLessThan(100);
      await sleep(1500);
    } finally {
      agent.resume();
    }
    const resumedMs = await changeArrives(d, base, 'tcp@127.0.0.1:9502', Date.now());
    expect(resumedMs).toBeLessThan(2000);
    expect(p.session).toBe(session);
  }, 60_000);
});
