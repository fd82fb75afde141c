// The mDNS tests proper: run by mdns-namespace.test.ts under node:test, inside a private
// network namespace (`unshare -n`, loopback only, multicast routed to lo), never in jest's
// own process and never on a real interface.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import * as nodeTest from 'node:test';
import type Bonjour from 'bonjour-service';
import { keys, nodeTestRunner, recordingLogger, registryCompliance } from '@rpcx/registry-kit/testing';
import {
  advertise,
  createBonjour,
  encodeServices,
  mdnsDiscovery,
  mdnsRegisterPlugin,
  txtStrings,
  type MdnsDiscoveryOptions,
  type MdnsRegisterPluginOptions,
} from '../../src/index.js';
import { MDNS_NAMESPACE_TESTS } from './names.js';

// Refuse to send a single multicast packet anywhere but a namespace that has only `lo`.
const interfaces = Object.keys(networkInterfaces());
if (interfaces.length !== 1 || interfaces[0] !== 'lo') {
  process.stderr.write(`refusing to run mDNS tests outside a private network namespace (interfaces: ${interfaces.join(', ')})\n`);
  process.exit(3);
}
process.stdout.write(`namespace interfaces: ${interfaces.join(', ')}\n`);

const { describe, test } = nodeTest;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
}
const destroy = (bonjour: Bonjour) => new Promise<void>((resolve) => bonjour.destroy(() => resolve()));

function plugin(options: MdnsRegisterPluginOptions) {
  const p = mdnsRegisterPlugin({ updateIntervalMs: 0, ...options });
  cleanups.push(() => p.stop());
  return p;
}

function discovery(options: MdnsDiscoveryOptions) {
  const d = mdnsDiscovery({ timeoutMs: 250, watchIntervalMs: 300, ...options });
  cleanups.push(() => d.close());
  return d;
}

/** Announce raw TXT strings as a foreign server would; undone at cleanup. */
async function announceRaw(instance: string, port: number, txt: Buffer[]): Promise<void> {
  const bonjour = createBonjour(undefined);
  const ad = await advertise(bonjour, { instance, port, txt });
  cleanups.push(async () => {
    await ad.stop();
    await destroy(bonjour);
  });
}

interface Seen {
  fqdn: string;
  type: string;
  protocol: string | null;
  port: number;
  rawTxt: Buffer[];
  addresses: string[];
}

/** Browse with a bare bonjour-service browser for `ms` and return what answered. */
async function browseRaw(ms = 400): Promise<Seen[]> {
  const bonjour = createBonjour(undefined);
  try {
    const browser = bonjour.find(null);
    await new Promise((r) => setTimeout(r, ms));
    browser.stop();
    return (browser.services as unknown as Seen[]).filter((s) => s.fqdn?.endsWith('._rpcxservices.local'));
  } finally {
    await destroy(bonjour);
  }
}

let instances = 0;
registryCompliance({
  name: 'mdns (private network namespace)',
  plugin: ({ serviceAddress, logger, updateIntervalMs }) =>
    mdnsRegisterPlugin({ serviceAddress, logger, instance: `compliance-${++instances}`, updateIntervalMs: updateIntervalMs ?? 0 }),
  discovery: ({ servicePath, logger }) => mdnsDiscovery({ servicePath, logger, timeoutMs: 250, watchIntervalMs: 300 }),
  writeRaw: async ({ servicePath, entries }) => {
    const bonjour = createBonjour(undefined);
    const services = entries.map((e) => ({ service: servicePath, meta: Buffer.from(e.value).toString(), serviceAddress: e.key }));
    const ad = await advertise(bonjour, { instance: `raw-${++instances}`, port: 9, txt: txtStrings(encodeServices(services)) });
    return async () => {
      await ad.stop();
      await destroy(bonjour);
    };
  },
  binaryValues: false, // the TXT carries JSON strings: no way to store bytes that are not UTF-8
  watchTimeoutMs: 3000,
  refreshIntervalMs: 300,
  runner: nodeTestRunner(nodeTest),
});

const [announces, hostDefault, unfiltered, longTxt, goFormat, garbageTxt] = MDNS_NAMESPACE_TESTS;

describe('mdns specifics', () => {
  test(announces, { timeout: 20_000 }, async () => {
    try {
      const p = plugin({ serviceAddress: 'tcp@127.0.0.1:8972', instance: 'srv-a' });
      await p.register('Arith', {}, 'weight=10&group=g1');
      await p.register('Echo', {}, '');
      const [seen] = (await browseRaw()).filter((s) => s.fqdn === 'srv-a._rpcxservices.local');
      assert.ok(seen, 'srv-a answered');
      assert.equal(seen.type, 'rpcxservices');
      assert.equal(seen.protocol, null); // `_rpcxservices.local`, as zeroconf names it
      assert.equal(seen.port, 8972);
      // Loopback is all this namespace has, and bonjour-service leaves it out: the service
      // address's IP stands in, or Go's discovery (zeroconf) would drop the instance.
      assert.deepEqual(seen.addresses, ['127.0.0.1']);
      assert.deepEqual(
        seen.rawTxt.map((b) => b.toString()),
        [
          '%5B%7B%22service%22%3A%22Arith%22%2C%22meta%22%3A%22weight%3D10%5Cu0026group%3Dg1%22%2C%22service_address%22%3A%22tcp%40127.0.0.1%3A8972%22%7D%2C' +
            '%7B%22service%22%3A%22Echo%22%2C%22service_address%22%3A%22tcp%40127.0.0.1%3A8972%22%7D%5D',
        ],
      );
      assert.equal(p.txt(), seen.rawTxt[0].toString());
    } finally {
      await cleanup();
    }
  });

  test(hostDefault, { timeout: 20_000 }, async () => {
    try {
      const p = plugin({ serviceAddress: 'tcp@127.0.0.1:8973' });
      await p.register('Arith', {}, '');
      const expected = `${hostname().split('.').join('-')}._rpcxservices.local`;
      assert.equal(p.fqdn, expected);
      assert.ok((await browseRaw()).some((s) => s.fqdn === expected), `${expected} answered`);
    } finally {
      await cleanup();
    }
  });

  test(unfiltered, { timeout: 20_000 }, async () => {
    try {
      const a = plugin({ serviceAddress: 'tcp@127.0.0.1:9001', instance: 'srv-1' });
      await a.register('Arith', {}, 'w=1');
      await a.register('Echo', {}, 'e=1');
      await plugin({ serviceAddress: 'tcp@127.0.0.1:9002', instance: 'srv-2' }).register('Other', {}, 'o=1');
      const sorted = (l: { key: string; value: string }[]) => [...l].sort((x, y) => `${x.key} ${x.value}`.localeCompare(`${y.key} ${y.value}`));
      assert.deepEqual(sorted(await discovery({ servicePath: 'Arith', filterByService: false }).getServices()), [
        { key: 'tcp@127.0.0.1:9001', value: 'e=1' },
        { key: 'tcp@127.0.0.1:9001', value: 'w=1' },
        { key: 'tcp@127.0.0.1:9002', value: 'o=1' },
      ]);
      assert.deepEqual(await discovery({ servicePath: 'Arith' }).getServices(), [{ key: 'tcp@127.0.0.1:9001', value: 'w=1' }]);
    } finally {
      await cleanup();
    }
  });

  test(longTxt, { timeout: 20_000 }, async () => {
    try {
      const p = plugin({ serviceAddress: 'tcp@127.0.0.1:9101', instance: 'srv-long' });
      const names = ['Arith', 'Echo', 'Greeter', 'Clock', 'Storage'];
      for (const name of names) await p.register(name, {}, `group=${name.toLowerCase()}&note=${'x'.repeat(40)}`);
      const total = Buffer.byteLength(p.txt());
      assert.ok(total > 600, `TXT is ${total} bytes`);
      const [seen] = (await browseRaw()).filter((s) => s.fqdn === 'srv-long._rpcxservices.local');
      assert.deepEqual(
        seen.rawTxt.map((b) => b.length),
        [...Array(Math.ceil(total / 255)).keys()].map((i) => Math.min(255, total - i * 255)),
      );
      assert.equal(Buffer.concat(seen.rawTxt).toString(), p.txt());
      assert.deepEqual(await discovery({ servicePath: 'Storage' }).getServices(), [
        { key: 'tcp@127.0.0.1:9101', value: `group=storage&note=${'x'.repeat(40)}` },
      ]);
    } finally {
      await cleanup();
    }
  });

  test(goFormat, { timeout: 20_000 }, async () => {
    try {
      const fixtures = JSON.parse(readFileSync(new URL('../fixtures/go-txt.json', import.meta.url), 'utf8')) as {
        fixtures: { name: string; txt: string }[];
      };
      const two = fixtures.fixtures.find((f) => f.name.startsWith('two services'))!;
      await announceRaw('go-peer', 8972, [Buffer.from(two.txt)]);
      assert.deepEqual(await discovery({ servicePath: 'Echo' }).getServices(), [{ key: 'tcp@192.168.1.10:8972', value: 'state=active' }]);
      assert.deepEqual(await discovery({ servicePath: 'Arith' }).getServices(), [{ key: 'tcp@192.168.1.10:8972', value: '' }]);
    } finally {
      await cleanup();
    }
  });

  test(garbageTxt, { timeout: 20_000 }, async () => {
    try {
      await announceRaw('bad-escape', 9201, [Buffer.from('%ZZ')]);
      await announceRaw('bad-json', 9202, [Buffer.from('%7Bnot+json')]);
      await plugin({ serviceAddress: 'tcp@127.0.0.1:9203', instance: 'good' }).register('Arith', {}, 'w=3');
      const logger = recordingLogger();
      const d = discovery({ servicePath: 'Arith', logger });
      assert.deepEqual(keys(await d.getServices()), ['tcp@127.0.0.1:9203']);
      const warned = (fqdn: string) => logger.warnings.filter((w) => w.startsWith(`mdns: skipping ${fqdn}: `));
      assert.equal(warned('bad-escape._rpcxservices.local').length, 1, JSON.stringify(logger.warnings));
      assert.match(warned('bad-escape._rpcxservices.local')[0], /TXT is not URL-escaped/);
      assert.match(warned('bad-json._rpcxservices.local')[0], /TXT is not JSON/);
    } finally {
      await cleanup();
    }
  });
});
