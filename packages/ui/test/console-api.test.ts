// The console's data API without a browser (what the page calls): against etcd, ZooKeeper and a
// real Consul agent (`bash scripts/build-consul.sh` once), each holding a TS server registered by
// our plugin and a Go rpcx server registered by Go's; and against one server's address. Then
// the inputs it must refuse, and its token.
import http from 'node:http';
import type { ServiceDiscovery } from '@rpcx/core';
import { consulDiscovery, consulRegisterPlugin } from '@rpcx/registry-consul';
import { etcdDiscovery, etcdRegisterPlugin } from '@rpcx/registry-etcd';
import { zookeeperDiscovery, zookeeperRegisterPlugin } from '@rpcx/registry-zookeeper';
import type { ServerPlugin } from '@rpcx/core';
import { startGoServer, type GoServer } from '../../../interop/test/support/go-peer.js';
import { buildRegpeer, runGoRegistryClient, startGoRegisteredServer, type GoRegisteredServer, type Registry, type RegistryFlags } from '../../../interop/test/support/registry-peer.js';
import { startTsServer } from '../../../interop/test/support/services.js';
import { ConsulAgent } from '../../registry-consul/test/consul-agent.js';
import { EtcdServer } from '../../registry-etcd/test/etcd-server.js';
import { ZooKeeperServer } from '../../registry-zookeeper/test/zookeeper-server.js';
// @ts-expect-error: a plain ES module without types (the package's build step).
import { buildWeb } from '../build-web.mjs';
import { startConsole, type EstateSnapshot, type RunningConsole } from '../src/index.js';

const BASE = '/rpcx_ui_api';

beforeAll(async () => {
  await buildWeb();
}, 60_000);

/** A JSON request to the console, as the page sends it. */
async function api(c: RunningConsole, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; data: any }> {
  const res = await fetch(new URL(path, c.url), {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, data: await res.json() };
}

/** Read /api/events until an `estate` event satisfies `predicate` (within `ms`). */
async function nextEstate(c: RunningConsole, predicate: (s: EstateSnapshot) => boolean, ms: number, headers: Record<string, string> = {}): Promise<EstateSnapshot> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const seen: string[] = [];
  try {
    const res = await fetch(new URL('/api/events', c.url), { headers, signal: abort.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const m = /^event: estate\ndata: (.*)$/s.exec(frame);
        if (!m) continue;
        const snapshot = JSON.parse(m[1]) as EstateSnapshot;
        seen.push(JSON.stringify(snapshot.services.map((s) => [s.name, s.servers])));
        if (predicate(snapshot)) return snapshot;
      }
    }
    throw new Error('the event stream ended');
  } catch (error) {
    throw new Error(`no matching estate within ${ms} ms (${(error as Error).message}); seen: ${seen.slice(-3).join('\n')}`);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

const arithOf = (s: EstateSnapshot) => s.services.find((x) => x.name === 'Arith')?.servers ?? [];

interface RegistryCase {
  registry: Registry;
  start(): Promise<{ endpoint: string; destroy(): Promise<void> }>;
  plugin(endpoint: string, serviceAddress: string): ServerPlugin;
  discovery(endpoint: string): ServiceDiscovery;
}

describe.each<RegistryCase>([
  {
    registry: 'etcd',
    start: async () => {
      const etcd = await EtcdServer.start();
      return { endpoint: etcd.endpoint, destroy: () => etcd.destroy() };
    },
    plugin: (endpoint, serviceAddress) => etcdRegisterPlugin({ endpoints: [endpoint], basePath: BASE, serviceAddress, updateIntervalMs: 1000, leaseTtlSeconds: 5 }),
    discovery: (endpoint) => etcdDiscovery({ endpoints: [endpoint], basePath: BASE, servicePath: '' }),
  },
  {
    registry: 'zookeeper',
    start: async () => {
      const zk = await ZooKeeperServer.start();
      return { endpoint: zk.endpoint, destroy: () => zk.destroy() };
    },
    plugin: (endpoint, serviceAddress) => zookeeperRegisterPlugin({ servers: [endpoint], basePath: BASE, serviceAddress, updateIntervalMs: 1000 }),
    discovery: (endpoint) => zookeeperDiscovery({ servers: [endpoint], basePath: BASE, servicePath: '' }),
  },
  {
    registry: 'consul',
    start: async () => {
      const agent = await ConsulAgent.start();
      return { endpoint: agent.address, destroy: () => agent.destroy() };
    },
    plugin: (endpoint, serviceAddress) => consulRegisterPlugin({ address: endpoint, basePath: BASE, serviceAddress, updateIntervalMs: 1000 }),
    discovery: (endpoint) => consulDiscovery({ address: endpoint, basePath: BASE, servicePath: '' }),
  },
])('the console over $registry', ({ registry, start, plugin, discovery }) => {
  let backend: { endpoint: string; destroy(): Promise<void> };
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  let go: GoRegisteredServer;
  let c: RunningConsole;
  let flags: RegistryFlags;

  beforeAll(async () => {
    buildRegpeer();
    backend = await start();
    flags = { registry, endpoint: backend.endpoint, basePath: BASE };
    ts = await startTsServer();
    await ts.server.use(plugin(backend.endpoint, ts.key));
    go = await startGoRegisteredServer(flags);
    c = await startConsole({ target: { registry: discovery(backend.endpoint), label: `${registry}://${backend.endpoint}${BASE}` }, listen: '127.0.0.1:0' });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
    await go?.stop();
    await ts?.server.shutdown({ timeoutMs: 2000 });
    await backend?.destroy();
  }, 30_000);

  test('lists every service with its TS and Go servers, and pushes changes', async () => {
    const both = await nextEstate(c, (s) => arithOf(s).length === 2, 15_000);
    expect(both).toMatchObject({ label: `${registry}://${backend.endpoint}${BASE}`, kind: 'registry', writable: true });
    expect(both.services.map((s) => s.name)).toEqual(['Arith', 'Echo', 'Int64', 'PB', 'ServiceUser', 'ServiceUserFn', 'Thrift']);
    expect(arithOf(both).map((e) => e.key)).toEqual([go.key, ts.key].sort());
    expect(both.servers).toEqual([go.key, ts.key].sort());
    const { status, data } = await api(c, '/api/estate');
    expect(status).toBe(200);
    expect(data.services).toHaveLength(7);
  }, 30_000);

  test('deactivates the Go server and sets its weight in the layout Go reads: the Go client stops selecting it', async () => {
    const { status, data } = await api(c, '/api/metadata', { service: 'Arith', server: go.key, state: 'inactive', weight: '3' });
    expect([status, data.error]).toEqual([200, undefined]);
    expect(data.metadata).toMatch(/(^|&)state=inactive(&|$)/);
    await nextEstate(c, (s) => arithOf(s).some((e) => e.key === go.key && /(^|&)state=inactive(&|$)/.test(e.value) && /(^|&)weight=3(&|$)/.test(e.value)), 10_000);

    const after = await runGoRegistryClient(flags, 6, 2);
    expect(after.failed).toBe(0);
    expect(after.perServer).toEqual({ [ts.key]: 6 });
    // Our XClient through the console skips it too.
    const call = await api(c, '/api/call', { service: 'Arith', method: 'Mul', args: '{"A":4,"B":5}', repeat: 5 });
    expect(call.data).toMatchObject({ ok: true, reply: '{\n  "C": 20\n}', server: ts.key, calls: 5, failed: 0 });

    // Go's own refresh (every second) keeps the state: still there three seconds later.
    await new Promise((r) => setTimeout(r, 3000));
    const later = await api(c, '/api/estate');
    expect(arithOf(later.data).find((e) => e.key === go.key)?.value).toMatch(/(^|&)state=inactive(&|$)/);

    const back = await api(c, '/api/metadata', { service: 'Arith', server: go.key, state: 'active' });
    expect(back.status).toBe(200);
    const again = await runGoRegistryClient(flags, 6, 2);
    expect(Object.keys(again.perServer).sort()).toEqual([go.key, ts.key].sort());
  }, 60_000);

  test('a server or service that is not in the registry: 404, nothing written', async () => {
    expect(await api(c, '/api/metadata', { service: 'Arith', server: 'tcp@127.0.0.1:1', state: 'inactive' })).toEqual({
      status: 404,
      data: { error: `tcp@127.0.0.1:1 is not a server of Arith in ${registry}://${backend.endpoint}${BASE}` },
    });
    expect((await api(c, '/api/metadata', { service: 'Nope', server: ts.key, state: 'inactive' })).status).toBe(404);
  });
});

describe('the console over one address', () => {
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  let go: GoServer;
  let c: RunningConsole;
  let calls = 0;

  beforeAll(async () => {
    [ts, go] = await Promise.all([startTsServer(), startGoServer()]);
    await ts.server.use({ name: 'count', preCall: (_ctx, _s, _m, args) => (calls++, args) } as ServerPlugin);
    c = await startConsole({ target: { server: ts.key }, listen: '127.0.0.1:0' });
  }, 60_000);
  afterAll(async () => {
    await c?.close();
    await Promise.all([go?.stop(), ts?.server.close()]);
  });

  test('the estate is the one server; calls go to it, in every codec', async () => {
    expect((await api(c, '/api/estate')).data).toMatchObject({ kind: 'server', label: ts.key, writable: false, services: [], servers: [ts.key] });
    const json = await api(c, '/api/call', { service: 'Arith', method: 'Mul', args: '{"A":6,"B":7}', codec: 'json', metadata: '{"trace":"x"}' });
    expect(json.data).toMatchObject({ ok: true, reply: '{\n  "C": 42\n}', server: ts.key, calls: 1 });
    const msgpack = await api(c, '/api/call', { service: 'Int64', method: 'Echo', args: '{"V":9007199254740993}', codec: 'msgpack' });
    expect(msgpack.data.reply).toBe('{\n  "V": 9007199254740993\n}');
    const raw = await api(c, '/api/call', { service: 'Echo', method: 'Echo', args: 'héllo', codec: 'raw' });
    expect(raw.data).toMatchObject({ ok: true, reply: 'héllo' });
    // A Go server, named on the call itself.
    const fromGo = await api(c, '/api/call', { service: 'Arith', method: 'Mul', args: '{"A":2,"B":21}', server: go.key });
    expect(fromGo.data).toMatchObject({ ok: true, reply: '{\n  "C": 42\n}' });
  });

  test('failures are answers: the server text, an unreachable server, no registry to write to', async () => {
    expect((await api(c, '/api/call', { service: 'Arith', method: 'Nope', args: '{}' })).data).toMatchObject({
      ok: false,
      error: "Arith.Nope failed on the server: rpcx: can't find method Nope",
    });
    const down = await api(c, '/api/call', { service: 'Arith', method: 'Mul', args: '{}', server: 'tcp@127.0.0.1:1' });
    expect(down.data).toMatchObject({ ok: false, code: expect.stringMatching(/^RPCX_ERR_/) });
    expect(down.data.error).toMatch(/127\.0\.0\.1:1/);
    // Metadata cannot be written without a registry.
    expect((await api(c, '/api/metadata', { service: 'Arith', server: ts.key, state: 'inactive' })).status).toBe(409);
  });

  test.each([
    ['not JSON at all', '{"service": "Arith",', { error: expect.stringMatching(/^the request body is not JSON: /) }],
    ['a JSON array', '[]', { error: 'the request body must be a JSON object' }],
    ['no service', { method: 'Mul' }, { field: 'service' }],
    ['a method with a space', { service: 'Arith', method: 'M ul' }, { field: 'method' }],
    ['broken argument JSON', { service: 'Arith', method: 'Mul', args: '{"A":' }, { field: 'args', error: expect.stringMatching(/^the arguments are not valid JSON: /) }],
    ['metadata not an object', { service: 'Arith', method: 'Mul', metadata: '[1]' }, { field: 'metadata' }],
    ['metadata with a number', { service: 'Arith', method: 'Mul', metadata: '{"a":1}' }, { field: 'metadata' }],
    ['an unknown codec', { service: 'Arith', method: 'Mul', codec: 'xml' }, { field: 'codec' }],
    ['a server that is no key', { service: 'Arith', method: 'Mul', server: 'nonsense' }, { field: 'server' }],
    ['a zero timeout', { service: 'Arith', method: 'Mul', timeoutMs: 0 }, { field: 'timeoutMs' }],
    ['too many repeats', { service: 'Arith', method: 'Mul', repeat: 1e6 }, { field: 'repeat' }],
  ])('a call with %s: 400 and what is wrong, nothing called', async (_what, body, answer) => {
    const before = calls;
    const { status, data } = await api(c, '/api/call', body);
    expect(status).toBe(400);
    expect(data).toMatchObject(answer);
    expect(typeof data.error).toBe('string');
    expect(calls).toBe(before);
  });

  test.each([
    ['a state that is neither', { service: 'Arith', server: 'tcp@127.0.0.1:1', state: 'paused' }, 'state'],
    ['a weight that is no whole number', { service: 'Arith', server: 'tcp@127.0.0.1:1', weight: '1.5' }, 'weight'],
    ['a zero weight', { service: 'Arith', server: 'tcp@127.0.0.1:1', weight: 0 }, 'weight'],
    ['no server', { service: 'Arith', state: 'inactive' }, 'server'],
  ])('a metadata change with %s: 400 naming the field', async (_what, body, field) => {
    expect(await api(c, '/api/metadata', body)).toMatchObject({ status: 400, data: { field } });
  });

  test('requests a page of this console could not have sent are refused', async () => {
    const raw = (options: http.RequestOptions, body = '') =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(c.url);
        const req = http.request({ host: url.hostname, port: url.port, ...options }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end(body);
      });
    // DNS rebinding: a foreign Host.
    expect(await raw({ path: '/api/estate', headers: { Host: 'evil.example:80' } })).toBe(421);
    // Cross-site: another Origin, or a form's content type (no preflight).
    const call = JSON.stringify({ service: 'Arith', method: 'Mul', args: '{}' });
    expect(await raw({ method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' } }, call)).toBe(403);
    expect(await raw({ method: 'POST', path: '/api/call', headers: { 'Content-Type': 'text/plain' } }, call)).toBe(415);
    expect(await raw({ method: 'POST', path: '/api/call', headers: { 'Content-Type': 'application/json' } }, 'x'.repeat(1_100_000))).toBe(413);
    expect(await raw({ method: 'DELETE', path: '/api/call' })).toBe(405);
    expect(await raw({ path: '/api/nothing' })).toBe(404);
    // And the console goes on.
    expect((await api(c, '/api/call', { service: 'Arith', method: 'Mul', args: '{"A":1,"B":1}' })).data).toMatchObject({ ok: true });
  });

  test('--auth: no API request works without the token; the page itself loads', async () => {
    const token = 'a-long-enough-token';
    const guarded = await startConsole({ target: { server: ts.key }, listen: '127.0.0.1:0', auth: token });
    try {
      const before = calls;
      expect(await api(guarded, '/api/estate')).toEqual({ status: 401, data: { error: 'this console needs its token', auth: true } });
      expect((await api(guarded, '/api/call', { service: 'Arith', method: 'Mul', args: '{}' })).status).toBe(401);
      expect((await api(guarded, '/api/call', { service: 'Arith', method: 'Mul', args: '{}' }, { Authorization: 'Bearer wrong-token-here' })).status).toBe(401);
      expect((await fetch(new URL('/api/events', guarded.url))).status).toBe(401);
      expect(calls).toBe(before);
      const ok = await api(guarded, '/api/call', { service: 'Arith', method: 'Mul', args: '{"A":3,"B":3}' }, { Authorization: `Bearer ${token}` });
      expect(ok.data).toMatchObject({ ok: true, reply: '{\n  "C": 9\n}' });
      const page = await fetch(guarded.url);
      expect([page.status, page.headers.get('content-security-policy')]).toEqual([200, expect.stringContaining("default-src 'self'")]);
      expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
    } finally {
      await guarded.close();
    }
  });

  test('off loopback only with a token; a short token is refused', async () => {
    await expect(startConsole({ target: { server: ts.key }, listen: '0.0.0.0:0' })).rejects.toThrow('rpcx ui: listening on 0.0.0.0:0, off this machine, needs an auth token (--auth TOKEN)');
    await expect(startConsole({ target: { server: ts.key }, listen: '127.0.0.1:0', auth: 'short' })).rejects.toThrow('rpcx ui: the auth token must be at least 8 characters');
  });
});
