import { consecutiveBreaker } from '@rpcx/breaker';
import { BreakerOpenError, ConnectionError, FailMode, MultiError, SelectMode, ServiceError, type Selector } from '@rpcx/core';
import { OneClient, XClient, XClientPool, multipleServers, peer2peer, selectorFor, type XClientOptions } from '@rpcx/xclient';
import { codec, sleep, startServer, transport, type TestServer } from './support.js';

const entries = (servers: TestServer[], value = '') => servers.map((s) => ({ key: s.key, value }));
const make = (servers: TestServer[], options: Partial<XClientOptions> = {}) =>
  new XClient({ servicePath: 'Who', discovery: multipleServers(entries(servers)), transports: [transport], codecs: [codec], ...options });

describe('Failover under a server crash', () => {
  test('3 servers, one killed and restarted mid-load: every call succeeds and the restarted one serves again', async () => {
    const servers = await Promise.all(['a', 'b', 'c'].map((n) => startServer(n)));
    const client = make(servers, { failMode: FailMode.Failover, selector: () => selectorFor(SelectMode.RandomSelect), retries: 3 });
    const [, victim] = servers;
    let ok = 0;
    const failures: Error[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          await client.call('Name', null);
          ok++;
        } catch (err) {
          failures.push(err as Error);
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await sleep(300);
    await victim.kill();
    const servedBeforeRestart = victim.calls;
    await sleep(400);
    await victim.restart();
    await sleep(600);
    running = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(200);
    expect(victim.calls).toBeGreaterThan(servedBeforeRestart);
    await client.close();
    await Promise.all(servers.map((s) => s.kill()));
  });
});

describe('Failbackup', () => {
  test('a slow first server is overtaken by the backup request after the backup latency', async () => {
    const slow = await startServer('slow', { delayMs: 1000 });
    const fast = await startServer('fast');
    let n = 0;
    // the first choice is the slow server, the backup goes to the fast one
    const selector: Selector = { select: () => (n++ % 2 === 0 ? slow.key : fast.key), updateServers: () => {} };
    const client = make([slow, fast], { failMode: FailMode.Failbackup, backupLatencyMs: 50, selector: () => selector });
    const t0 = Date.now();
    expect(await client.call('Name', null)).toBe('fast');
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(600);
    expect(slow.calls).toBe(1);
    await client.close();
    await Promise.all([slow.kill(), fast.kill()]);
  });
});

describe('fan-out with one failing server', () => {
  let servers: TestServer[];
  let client: XClient;
  beforeAll(async () => {
    servers = [await startServer('a'), await startServer('b'), await startServer('bad', { fail: true })];
    client = make(servers);
  });
  afterAll(async () => {
    await client.close();
    await Promise.all(servers.map((s) => s.kill()));
  });

  test('broadcast fails with that server error', async () => {
    const err = await client.broadcast('Name', null).catch((e: Error) => e);
    expect(err).toBeInstanceOf(MultiError);
    expect((err as MultiError).errors[0]).toEqual(new ServiceError('bad fails'));
  });

  test('fork returns the first success', async () => {
    expect(['a', 'b']).toContain(await client.fork('Name', null));
  });

  test('inform reports each server with its own reply or error', async () => {
    const receipts = await client.inform<string>('Name', null);
    const byAddress = Object.fromEntries(receipts.map((r) => [r.address, r]));
    expect(byAddress[servers[0].key.slice(4)].reply).toBe('a');
    expect(byAddress[servers[1].key.slice(4)].reply).toBe('b');
    expect(byAddress[servers[2].key.slice(4)].error?.message).toBe('bad fails');
    expect(byAddress[servers[0].key.slice(4)].error).toBeUndefined();
  });

  test('fork with every server failing rejects with all errors', async () => {
    const bad = make([servers[2]]);
    await expect(bad.fork('Name', null)).rejects.toBeInstanceOf(MultiError);
    await bad.close();
  });
});

describe('circuit breaker', () => {
  test('opens after the configured failures, rejects without dialling, lets a probe through after the window', async () => {
    const dead = await startServer('dead');
    await dead.kill();
    let dials = 0;
    const client = make([dead], {
      breaker: () => consecutiveBreaker({ failureThreshold: 2, windowMs: 300 }),
      plugins: [{ connCreateFailed: () => void dials++ }],
    });
    await expect(client.call('Name', null)).rejects.toBeInstanceOf(ConnectionError);
    await expect(client.call('Name', null)).rejects.toBeInstanceOf(ConnectionError);
    expect(dials).toBe(2);
    await expect(client.call('Name', null)).rejects.toThrow(new BreakerOpenError());
    expect(dials).toBe(2); // rejected without dialling
    await sleep(350);
    await dead.restart();
    expect(await client.call('Name', null)).toBe('dead'); // the probe gets through
    await client.close();
    await dead.kill();
  });
});

describe('discovery updates, filtering and connection management', () => {
  test('live updates move traffic and close connections to removed servers', async () => {
    const [a, b] = await Promise.all([startServer('a'), startServer('b')]);
    const discovery = multipleServers(entries([a]));
    const disconnected: string[] = [];
    const client = new XClient({ servicePath: 'Who', discovery, transports: [transport], codecs: [codec], selector: () => selectorFor(SelectMode.RoundRobin) });
    client.on('disconnect', (s) => disconnected.push(s));
    expect(await client.call('Name', null)).toBe('a');
    discovery.update(entries([b]));
    expect(await client.call('Name', null)).toBe('b');
    await sleep(20);
    expect(disconnected).toEqual([a.key]);
    await client.close();
    await Promise.all([a.kill(), b.kill()]);
  });

  test('state=inactive servers are skipped and group filters', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => startServer(n)));
    const discovery = multipleServers([
      { key: a.key, value: 'group=blue&state=active' },
      { key: b.key, value: 'group=blue&state=inactive' },
      { key: c.key, value: 'group=green' },
    ]);
    const client = new XClient({ servicePath: 'Who', discovery, transports: [transport], codecs: [codec], group: 'blue' });
    const names = new Set(await Promise.all(Array.from({ length: 30 }, () => client.call('Name', null))));
    expect([...names]).toEqual(['a']);
    await client.close();
    await Promise.all([a, b, c].map((s) => s.kill()));
  });

  test('one connection per server, dials de-duplicated under concurrency', async () => {
    const a = await startServer('a');
    let dials = 0;
    const client = make([a], { plugins: [{ clientConnected: () => void dials++ }] });
    await Promise.all(Array.from({ length: 50 }, () => client.call('Name', null)));
    expect(dials).toBe(1);
    await client.close();
    await a.kill();
  });

  test('a pool spreads over several connections; OneClient serves many services', async () => {
    const a = await startServer('a');
    let dials = 0;
    const pool = new XClientPool(3, {
      servicePath: 'Who',
      discovery: peer2peer(a.key),
      transports: [transport],
      codecs: [codec],
      plugins: [{ clientConnected: () => void dials++ }],
    });
    for (let i = 0; i < 6; i++) expect(await pool.get().call('Name', null)).toBe('a');
    expect(dials).toBe(3);
    await pool.close();

    const one = new OneClient({ discovery: peer2peer(a.key), transports: [transport], codecs: [codec] });
    expect(await one.call('Who', 'Name', null)).toBe('a');
    await expect(one.call('Nobody', 'Name', null)).rejects.toThrow("rpcx: can't find service Nobody");
    await one.close();
    await a.kill();
  });

  test('client plugins run at their hook points', async () => {
    const a = await startServer('a');
    const seen: string[] = [];
    const client = make([a], {
      plugins: [
        {
          preCall: (info) => void seen.push(`preCall ${info.serviceMethod}`),
          postCall: (_i, reply) => void seen.push(`postCall ${String(reply)}`),
          connCreated: () => void seen.push('connCreated'),
          clientConnected: () => void seen.push('clientConnected'),
          beforeEncode: (m) => void seen.push(`beforeEncode ${m.serviceMethod}`),
          afterDecode: (m) => void seen.push(`afterDecode ${m.isResponse}`),
          wrapSelect: (next) => (info) => {
            seen.push('select');
            return next(info);
          },
        },
      ],
    });
    expect(await client.call('Name', null)).toBe('a');
    // Go's order (xclient.go: selectClient dials before wrapCall runs PreCall).
    expect(seen).toEqual(['select', 'connCreated', 'clientConnected', 'preCall Name', 'beforeEncode Name', 'afterDecode true', 'postCall a']);
    await client.close();
    await a.kill();
  });
});

describe('sticky, Failtry and sendRaw', () => {
  test('sticky keeps the selected server until its connection closes', async () => {
    const [a, b] = await Promise.all([startServer('a'), startServer('b')]);
    const client = make([a, b], { sticky: true, selector: () => selectorFor(SelectMode.RoundRobin) });
    const first = await client.call<string>('Name', null);
    for (let i = 0; i < 5; i++) expect(await client.call('Name', null)).toBe(first);
    const stuck = first === 'a' ? a : b;
    await stuck.kill();
    await sleep(20);
    const other = first === 'a' ? 'b' : 'a';
    expect(await client.call('Name', null)).toBe(other);
    await client.close();
    await Promise.all([a, b].map((s) => s.kill()));
  });

  test('Failtry retries the same server and never re-selects', async () => {
    const [a, b] = await Promise.all([startServer('a'), startServer('b')]);
    await a.kill();
    let n = 0;
    const selector: Selector = { select: () => (n++ === 0 ? a.key : b.key), updateServers: () => {} };
    let failedDials = 0;
    const client = make([a, b], { failMode: FailMode.Failtry, retries: 2, selector: () => selector, plugins: [{ connCreateFailed: () => void failedDials++ }] });
    await expect(client.call('Name', null)).rejects.toBeInstanceOf(ConnectionError);
    expect(failedDials).toBe(3); // first attempt + 2 retries, all on a
    expect(n).toBe(1);
    await client.close();
    await b.kill();
  });

  test('sendRaw sends a ready-made frame and returns the response frame', async () => {
    const a = await startServer('a');
    const client = make([a]);
    const { Message } = await import('@rpcx/protocol');
    const req = new Message({ servicePath: 'Who', serviceMethod: 'Name', serializeType: 3, payload: codec.encode(null), metadata: { x: '1' } });
    const res = await client.sendRaw(req);
    expect(res.isResponse).toBe(true);
    expect(codec.decode(res.payload)).toBe('a');
    await client.close();
    await a.kill();
  });
});
