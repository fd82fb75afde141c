// RegistryDiscovery and RegistryRegisterPlugin on their own, over the in-memory store.
import { ConfigError, RegistryError, UnsupportedError } from '@rpcx/core';
import { nextList, recordingLogger, sleep, waitFor } from '../src/testing/index.js';
import { RegistryKeyNotFoundError, type VersionedEntry } from '../src/index.js';
import { MemoryDiscovery, MemoryRegisterPlugin, MemoryStore, type MemoryDiscoveryOptions } from './memory-registry.js';

/**
 * The memory discovery with `updateMetadata`'s hooks, compare-and-set on the value itself;
 * `conflicts` writes in a row are refused first, as if the node changed under each.
 */
class UpdatableMemoryDiscovery extends MemoryDiscovery {
  writes = 0;
  constructor(
    private readonly store: MemoryStore,
    options: MemoryDiscoveryOptions,
    private conflicts = 0,
  ) {
    super(options);
  }
  protected override async readEntry(servicePath: string, serverKey: string): Promise<VersionedEntry> {
    const location = `/b/${servicePath}/${serverKey}`;
    const value = await this.store.get(location);
    if (value === undefined) throw new RegistryKeyNotFoundError(location);
    return { value, location, version: String(value) };
  }
  protected override async writeEntry(servicePath: string, serverKey: string, value: string, version: VersionedEntry['version']): Promise<boolean> {
    this.writes++;
    if (this.conflicts > 0) return (this.conflicts--, false);
    const location = `/b/${servicePath}/${serverKey}`;
    if (String(await this.store.get(location)) !== version) return false;
    await this.store.put(location, value);
    return true;
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
});

function setup(extra: { updateIntervalMs?: number; metrics?: boolean } = {}) {
  const store = new MemoryStore();
  const logger = recordingLogger();
  const plugin = (address = 'tcp@127.0.0.1:1001') => {
    const p = new MemoryRegisterPlugin({ store, basePath: '/b', serviceAddress: address, logger, ...extra });
    cleanups.push(() => p.stop());
    return p;
  };
  const discovery = (servicePath = 'Arith') => {
    const d = new MemoryDiscovery({ store, basePath: '/b', servicePath, logger });
    cleanups.push(() => d.close());
    return d;
  };
  return { store, logger, plugin, discovery };
}

describe('RegistryDiscovery', () => {
  test('keeps the last list while the registry is down, retries, and resumes', async () => {
    const { store, logger, plugin, discovery } = setup();
    await plugin().register('Arith', {}, 'w=1');
    const d = discovery();
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:1001', value: 'w=1' }]);
    const heard: string[][] = [];
    d.watch((l) => heard.push(l.map((e) => e.key)));

    store.down = true;
    await expect(d.poke()).rejects.toThrow('memory store is down');
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:1001', value: 'w=1' }]);
    expect(heard).toEqual([]);
    expect(logger.warnings.some((w) => w.startsWith('memory: cannot list /b/Arith/, keeping the last list, retrying in 250 ms:'))).toBe(true);

    // Changed behind its back, then back up: the scheduled retry lists it without a poke.
    store.data.set('/b/Arith/tcp@127.0.0.1:1002', '');
    store.down = false;
    await waitFor(() => heard.length === 1, 2000, 'retry');
    expect(heard).toEqual([['tcp@127.0.0.1:1001', 'tcp@127.0.0.1:1002']]);
  });

  test('a first listing that fails rejects getServices; a later call lists again', async () => {
    const { store, discovery } = setup();
    store.down = true;
    const d = discovery();
    await expect(d.getServices()).rejects.toThrow('memory store is down');
    store.down = false;
    await store.put('/b/Arith/tcp@127.0.0.1:1', 'x=1');
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:1', value: 'x=1' }]);
  });

  test('key-not-found is final: rejected, not retried', async () => {
    const { logger, store } = setup();
    let calls = 0;
    class Missing extends MemoryDiscovery {
      protected override async list(): Promise<never> {
        calls++;
        throw new RegistryKeyNotFoundError('/b/Arith');
      }
    }
    const d = new Missing({ store, basePath: '/b', servicePath: 'Arith', logger });
    cleanups.push(() => d.close());
    await expect(d.getServices()).rejects.toThrow('Key not found in store: /b/Arith');
    await sleep(400);
    expect(calls).toBe(1);
    expect(logger.warnings).toEqual([]);
  });

  test('concurrent refreshes share one listing plus one more; identical lists are not repeated', async () => {
    const { store, discovery } = setup();
    await store.put('/b/Arith/tcp@127.0.0.1:1', '');
    const d = discovery();
    await d.getServices();
    let listings = 0;
    const list = store.list.bind(store);
    store.list = async (prefix) => {
      listings++;
      await sleep(20);
      return list(prefix);
    };
    const heard: unknown[] = [];
    d.watch((l) => heard.push(l));
    await Promise.all([d.poke(), d.poke(), d.poke(), d.poke()]);
    expect(listings).toBe(2);
    expect(heard).toEqual([]); // nothing changed
    await store.put('/b/Arith/tcp@127.0.0.1:1', 'w=2');
    await waitFor(() => heard.length === 1, 1000, 'change');
    expect(heard).toEqual([[{ key: 'tcp@127.0.0.1:1', value: 'w=2' }]]);
  });

  test('a throwing listener is logged and the others still hear', async () => {
    const { store, logger, discovery } = setup();
    const d = discovery();
    await d.getServices();
    d.watch(() => {
      throw new Error('boom');
    });
    const heard = nextList(d, (l) => l.length === 1, 1000);
    await store.put('/b/Arith/tcp@127.0.0.1:1', '');
    await heard;
    expect(logger.warnings).toContain('memory: discovery listener threw: boom');
  });

  test('entries: sorted, checked, each bad one warned about once', async () => {
    const { store, logger, discovery } = setup();
    await store.put('/b/Arith/tcp@127.0.0.1:2', 'b=2');
    await store.put('/b/Arith/tcp@127.0.0.1:1', 'a=1');
    await store.put('/b/Arith/tcp@bad', '');
    await store.put('/b/Arith/tcp@127.0.0.1:3', new Uint8Array([0xc3, 0x28]));
    const d = discovery();
    expect(await d.getServices()).toEqual([
      { key: 'tcp@127.0.0.1:1', value: 'a=1' },
      { key: 'tcp@127.0.0.1:2', value: 'b=2' },
    ]);
    expect(logger.warnings).toEqual([
      'memory: skipping /b/Arith/tcp@bad: unparseable address',
      'memory: skipping /b/Arith/tcp@127.0.0.1:3: metadata is not UTF-8',
    ]);
    await d.poke();
    expect(logger.warnings).toHaveLength(2);
  });

  test('close: watchers stop hearing, and closing twice is fine', async () => {
    const { store, discovery } = setup();
    const d = discovery();
    await d.getServices();
    const heard: unknown[] = [];
    d.watch((l) => heard.push(l));
    await d.close();
    await d.close();
    await store.put('/b/Arith/tcp@127.0.0.1:1', '');
    await sleep(50);
    expect(heard).toEqual([]);
  });
});

describe('RegistryRegisterPlugin', () => {
  test('register writes in order; a failed write is rolled back and not refreshed later', async () => {
    const { store, plugin } = setup({ updateIntervalMs: 50 });
    const p = plugin();
    await p.register('Arith', {}, 'w=1');
    expect(store.log).toEqual(['put /b', 'put /b/Arith', 'put /b/Arith/tcp@127.0.0.1:1001']);

    store.down = true;
    await expect(p.register('Echo', {}, '')).rejects.toThrow('memory store is down');
    store.down = false;
    await sleep(200); // a few refresh ticks
    expect(store.data.has('/b/Echo/tcp@127.0.0.1:1001')).toBe(false);
    expect(store.data.get('/b/Arith/tcp@127.0.0.1:1001')).toMatch(/^calls=\d+\.\d\d&connections=\d+\.\d\d&w=1$/);
  });

  test('bad names and addresses are refused', async () => {
    const { plugin, store } = setup();
    const p = plugin();
    await expect(p.register(' ', {}, '')).rejects.toThrow(new ConfigError("Register service `name` can't be empty"));
    await expect(p.register('a/b', {}, '')).rejects.toThrow('memory: no "/" in service names: a/b');
    expect(() => new MemoryRegisterPlugin({ store, basePath: '/b', serviceAddress: '' })).toThrow(
      'memory register plugin: serviceAddress is required',
    );
    expect(() => new MemoryRegisterPlugin({ store, basePath: '/b', serviceAddress: 'tcp@' })).toThrow();
    expect(() => new MemoryRegisterPlugin({ store, basePath: '/b', serviceAddress: 'tcp@h:1', updateIntervalMs: -1 })).toThrow(
      'memory register plugin: updateIntervalMs must be >= 0',
    );
  });

  test('refresh re-creates a missing node; metrics off leaves a present one alone', async () => {
    const { store, logger, plugin } = setup({ updateIntervalMs: 50, metrics: false });
    const p = plugin();
    await p.register('Arith', {}, 'w=1');
    await store.delete('/b/Arith/tcp@127.0.0.1:1001');
    await waitFor(() => store.data.get('/b/Arith/tcp@127.0.0.1:1001') === 'w=1', 1000, 're-created');
    expect(logger.warnings).toContain('memory: /b/Arith/tcp@127.0.0.1:1001 is missing, registering it again');
    await sleep(150);
    expect(store.data.get('/b/Arith/tcp@127.0.0.1:1001')).toBe('w=1');
  });

  test('recover writes every service again, retrying while the registry is down', async () => {
    const { store, logger, plugin } = setup();
    const p = plugin();
    await p.register('Arith', {}, 'w=1');
    await p.register('Echo', {}, 'w=2');
    store.data.clear();
    store.down = true;
    const recovered = p.lose();
    await sleep(300);
    store.down = false;
    await recovered;
    expect(Object.fromEntries(store.data)).toEqual({
      '/b/Arith': 'Arith',
      '/b/Arith/tcp@127.0.0.1:1001': 'w=1',
      '/b/Echo': 'Echo',
      '/b/Echo/tcp@127.0.0.1:1001': 'w=2',
    });
    expect(logger.warnings.some((w) => w.startsWith('memory: cannot register again, retrying in 250 ms:'))).toBe(true);
  });

  test('stop withdraws every node and closes once; unregister of an unknown service is a no-op', async () => {
    const { store, plugin } = setup();
    const p = plugin();
    await p.unregister('Nothing');
    expect(p.opened).toBe(0);
    await p.register('Arith', {}, '');
    await p.register('Echo', {}, '');
    await p.stop();
    await p.stop();
    expect([...store.data.keys()].sort()).toEqual(['/b', '/b/Arith', '/b/Echo']);
    expect(p.closed).toBe(1);
    // Started again by the next register.
    await p.register('Arith', {}, 'again');
    expect(p.opened).toBe(2);
    expect(store.data.get('/b/Arith/tcp@127.0.0.1:1001')).toBe('again');
  });

  test('a start that failed still lets stop close', async () => {
    const { store, plugin } = setup();
    const p = plugin();
    store.down = true;
    await expect(p.start()).rejects.toThrow('memory store is down');
    await p.stop();
    expect(p.closed).toBe(1);
  });
});

describe('RegistryDiscovery.updateMetadata', () => {
  const options = (store: MemoryStore): MemoryDiscoveryOptions => ({ store, basePath: '/b', servicePath: 'Arith' });

  test('sets and deletes keys, keeps the others, writes them sorted as Go encodes them', async () => {
    const { store, plugin } = setup();
    await plugin().register('Arith', {}, 'weight=10&group=g1&b=%2F');
    const d = new UpdatableMemoryDiscovery(store, options(store));
    cleanups.push(() => d.close());
    expect(await d.updateMetadata('Arith', 'tcp@127.0.0.1:1001', { state: 'inactive', group: null, weight: '5' })).toBe('b=%2F&state=inactive&weight=5');
    expect(store.data.get('/b/Arith/tcp@127.0.0.1:1001')).toBe('b=%2F&state=inactive&weight=5');
    expect(await d.getServices()).toEqual([{ key: 'tcp@127.0.0.1:1001', value: 'b=%2F&state=inactive&weight=5' }]);
  });

  test('a node that changed in between is read again; one that keeps changing is a RegistryError', async () => {
    const { store, plugin } = setup();
    await plugin().register('Arith', {}, 'weight=1');
    const twice = new UpdatableMemoryDiscovery(store, options(store), 2);
    const always = new UpdatableMemoryDiscovery(store, options(store), Infinity);
    cleanups.push(() => twice.close(), () => always.close());
    expect(await twice.updateMetadata('Arith', 'tcp@127.0.0.1:1001', { weight: '2' })).toBe('weight=2');
    expect(twice.writes).toBe(3);
    await expect(always.updateMetadata('Arith', 'tcp@127.0.0.1:1001', { weight: '3' })).rejects.toThrow(
      new RegistryError('memory: /b/Arith/tcp@127.0.0.1:1001 kept changing; not updated after 5 attempts'),
    );
    expect(always.writes).toBe(5);
    expect(store.data.get('/b/Arith/tcp@127.0.0.1:1001')).toBe('weight=2');
  });

  test('bad arguments are a ConfigError before the registry is touched; no backend support is UnsupportedError', async () => {
    const { store, discovery } = setup();
    const d = new UpdatableMemoryDiscovery(store, options(store));
    cleanups.push(() => d.close());
    for (const [service, key, changes] of [
      ['', 'tcp@127.0.0.1:1', { a: '1' }],
      ['A/B', 'tcp@127.0.0.1:1', { a: '1' }],
      ['Arith', 'pigeon@127.0.0.1:1', { a: '1' }],
      ['Arith', 'tcp@nohost', { a: '1' }],
      ['Arith', 'tcp@127.0.0.1:1', {}],
      ['Arith', 'tcp@127.0.0.1:1', { '': '1' }],
    ] as const) {
      await expect(d.updateMetadata(service, key, changes)).rejects.toBeInstanceOf(ConfigError);
    }
    expect(d.writes).toBe(0);
    await expect(d.updateMetadata('Arith', 'tcp@127.0.0.1:1', { a: '1' })).rejects.toBeInstanceOf(RegistryKeyNotFoundError);
    await expect(discovery().updateMetadata('Arith', 'tcp@127.0.0.1:1', { a: '1' })).rejects.toThrow(
      new UnsupportedError("memory: this registry cannot update a server's metadata"),
    );
  });
});
