// Who closes what: a client closes what it made (connections, its selector, discovery clones,
// timers) and leaves what it was given (the discovery) open unless told to own it.
import { getEventListeners } from 'node:events';
import { ClientClosedError, FailMode, type Selector, type ServiceDiscovery, type ServiceEntry, type Startable } from '@rpcx/core';
import { OneClient, OneClientPool, XClient, XClientPool, multipleServers } from '@rpcx/xclient';
import { codec, deadServerKey, startServer, transport, waitFor, type TestServer } from './support.js';

/** A discovery that counts what is done to it and to the clones it makes. */
class SpyDiscovery implements ServiceDiscovery {
  closes = 0;
  watchers = 0;
  readonly clones: SpyDiscovery[] = [];
  constructor(private readonly entries: ServiceEntry[]) {}
  async getServices() {
    return this.entries;
  }
  watch() {
    this.watchers++;
    return () => void this.watchers--;
  }
  clone() {
    const c = new SpyDiscovery(this.entries);
    this.clones.push(c);
    return c;
  }
  async close() {
    this.closes++;
  }
}

/** A Startable selector that counts its starts and stops. */
function spySelector(key: () => string): Selector & Startable & { starts: number; stops: number } {
  return {
    starts: 0,
    stops: 0,
    select: () => key(),
    updateServers() {},
    start() {
      this.starts++;
    },
    stop() {
      this.stops++;
    },
  };
}

let server: TestServer;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  server = await startServer('a');
});
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});
afterAll(() => server.kill());

/** Close `thing` after the test, even a failing one. */
function later<T extends { close?(): Promise<unknown>; kill?(): Promise<unknown> }>(thing: T): T {
  cleanups.push(() => (thing.close ? thing.close() : thing.kill!()));
  return thing;
}

const base = () => ({ servicePath: 'Who', transports: [transport], codecs: [codec] });

test('an XClient starts and stops the selector it made, stops watching, and leaves a given discovery open', async () => {
  const discovery = new SpyDiscovery([{ key: server.key, value: '' }]);
  const selector = spySelector(() => server.key);
  const client = later(new XClient({ ...base(), discovery, selector: () => selector }));
  expect(await client.call('Name', null)).toBe('a');
  expect([selector.starts, discovery.watchers]).toEqual([1, 1]);
  await client.close();
  expect([selector.stops, discovery.watchers, discovery.closes]).toEqual([1, 0, 0]);
  await client.close(); // twice is harmless
  expect([selector.stops, discovery.closes]).toEqual([1, 0]);
  await expect(client.call('Name', null)).rejects.toBeInstanceOf(ClientClosedError);
});

test('ownDiscovery: close() closes the discovery too', async () => {
  const discovery = new SpyDiscovery([{ key: server.key, value: '' }]);
  const client = later(new XClient({ ...base(), discovery, ownDiscovery: true }));
  expect(await client.call('Name', null)).toBe('a');
  await client.close();
  expect(discovery.closes).toBe(1);
});

test('OneClient closes the discovery clones it made, not the discovery it was given', async () => {
  const discovery = new SpyDiscovery([{ key: server.key, value: '' }]);
  const one = later(new OneClient({ discovery, transports: [transport], codecs: [codec] }));
  expect(await one.call('Who', 'Name', null)).toBe('a');
  await expect(one.call('Other', 'Name', null)).rejects.toThrow("rpcx: can't find service Other");
  expect(discovery.clones).toHaveLength(2);
  await one.close();
  expect(discovery.clones.map((c) => c.closes)).toEqual([1, 1]);
  expect(discovery.closes).toBe(0);

  const owning = later(new OneClient({ discovery, transports: [transport], codecs: [codec], ownDiscovery: true }));
  await owning.close();
  expect(discovery.closes).toBe(1);
});

test('pools: each member has its own selector, stopped with it; the shared discovery stays open', async () => {
  const discovery = new SpyDiscovery([{ key: server.key, value: '' }]);
  const selectors: ReturnType<typeof spySelector>[] = [];
  const selector = () => {
    const s = spySelector(() => server.key);
    selectors.push(s);
    return s;
  };
  const pool = later(new XClientPool(3, { ...base(), discovery, selector }));
  for (let i = 0; i < 3; i++) expect(await pool.get().call('Name', null)).toBe('a');
  await pool.close();
  expect(selectors.map((s) => s.stops)).toEqual([1, 1, 1]);
  expect(discovery.closes).toBe(0);

  const ones = later(new OneClientPool(2, { discovery, transports: [transport], codecs: [codec] }));
  const first = ones.get();
  expect(ones.get()).not.toBe(first);
  expect(ones.get()).toBe(first);
  expect(await first.call('Who', 'Name', null)).toBe('a');
  await ones.close();
  expect(discovery.clones.at(-1)!.closes).toBe(1);
  expect(discovery.closes).toBe(0);
});

test('close() ends a pause between attempts at once', async () => {
  const dead = await deadServerKey();
  let dialFailures = 0;
  const client = later(new XClient({
    ...base(),
    discovery: multipleServers([{ key: dead, value: '' }]),
    failMode: FailMode.Failover,
    retryIntervalMs: 60_000,
    plugins: [{ connCreateFailed: () => void dialFailures++ }],
  }));
  const outcome = client.call('Name', null).catch((e: unknown) => e);
  // The first dial fails at once; the client then pauses a minute before the next attempt.
  await waitFor(() => dialFailures === 1, 'the first dial to fail');
  const started = performance.now();
  await client.close();
  expect(await outcome).toBeInstanceOf(ClientClosedError);
  expect(performance.now() - started).toBeLessThan(5_000);
  expect(dialFailures).toBe(1);
});

test('Failbackup leaves no listener on the caller’s signal, whichever attempt wins', async () => {
  const slow = later(await startServer('slow', { delayMs: 80 }));
  const fast = later(await startServer('fast'));
  let n = 0;
  const client = later(new XClient({
    ...base(),
    discovery: multipleServers([slow, fast].map((s) => ({ key: s.key, value: '' }))),
    failMode: FailMode.Failbackup,
    backupLatencyMs: 20,
    selector: () => ({ select: () => (n++ % 3 === 0 ? slow.key : fast.key), updateServers: () => {} }),
  }));
  const signal = new AbortController().signal;
  const winners = new Set<string>();
  for (let i = 0; i < 30; i++) winners.add(await client.call<string>('Name', null, { signal }));
  expect([...winners].sort()).toEqual(['fast']); // the slow first request lost each time
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
});
