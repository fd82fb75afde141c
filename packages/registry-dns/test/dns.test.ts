/**
 * DNS discovery against a DNS server this file runs on 127.0.0.1 (test/dns-server.ts), asked
 * through Node's resolver; and against the system resolver with `localhost`.
 */
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { UnsupportedError } from '@rpcx/core';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient } from '@rpcx/xclient';
import { keys, nextList, recordingLogger, sleep } from '@rpcx/registry-kit/testing';
import { dnsDiscovery, type DnsDiscovery, type DnsDiscoveryOptions } from '../src/index.js';
import { DnsServer } from './dns-server.js';

let server: DnsServer;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  server = await DnsServer.start();
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
});
afterAll(() => server?.close());

function discovery(options: Partial<DnsDiscoveryOptions> = {}): DnsDiscovery {
  const d = dnsDiscovery({ domain: 'arith.rpcx.test', port: 8972, servers: [server.address], intervalMs: 200, timeoutMs: 500, ...options });
  cleanups.push(() => d.close());
  return d;
}

test('every A and AAAA record is a server: network@ip:port, IPv6 in brackets, empty metadata, sorted', async () => {
  server.records.set('arith.rpcx.test', ['127.0.0.2', '::1', '127.0.0.1', 'fd00::2:1']);
  expect(await discovery().getServices()).toEqual([
    { key: 'tcp@127.0.0.1:8972', value: '' },
    { key: 'tcp@127.0.0.2:8972', value: '' },
    { key: 'tcp@[::1]:8972', value: '' },
    { key: 'tcp@[fd00::2:1]:8972', value: '' },
  ]);
  expect(await discovery({ network: 'kcp', port: 9000 }).getServices()).toEqual([
    { key: 'kcp@127.0.0.1:9000', value: '' },
    { key: 'kcp@127.0.0.2:9000', value: '' },
    { key: 'kcp@[::1]:9000', value: '' },
    { key: 'kcp@[fd00::2:1]:9000', value: '' },
  ]);
  expect(server.questions).toEqual(expect.arrayContaining(['arith.rpcx.test A', 'arith.rpcx.test AAAA']));
});

test('records that change reach watchers at the next lookup; a name that goes away is an empty list', async () => {
  server.records.set('arith.rpcx.test', ['127.0.0.1']);
  const d = discovery();
  expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8972']);
  const added = nextList(d, (l) => l.length === 2, 3000);
  server.records.set('arith.rpcx.test', ['127.0.0.1', '127.0.0.3']);
  expect(keys(await added)).toEqual(['tcp@127.0.0.1:8972', 'tcp@127.0.0.3:8972']);
  const gone = nextList(d, (l) => l.length === 0, 3000);
  server.records.delete('arith.rpcx.test');
  expect(await gone).toEqual([]);
  expect(await discovery({ domain: 'nothing.rpcx.test' }).getServices()).toEqual([]);
});

test('a DNS server that stops answering: the last list is kept and served at once; lookups resume', async () => {
  server.records.set('arith.rpcx.test', ['127.0.0.1']);
  const logger = recordingLogger();
  const d = discovery({ logger });
  expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8972']);
  const changes: string[][] = [];
  d.watch((l) => changes.push(keys(l)));
  server.silent = true;
  try {
    await sleep(1500);
    const t0 = Date.now();
    expect(keys(await d.getServices())).toEqual(['tcp@127.0.0.1:8972']);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(changes).toEqual([]);
    expect(logger.warnings.some((w) => w.includes('keeping the last list'))).toBe(true);
  } finally {
    server.silent = false;
  }
  const back = nextList(d, (l) => l.length === 2, 5000);
  server.records.set('arith.rpcx.test', ['127.0.0.1', '127.0.0.4']);
  expect(keys(await back)).toEqual(['tcp@127.0.0.1:8972', 'tcp@127.0.0.4:8972']);
});

test('an XClient finds a server by name and calls it', async () => {
  const rpc = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
  await rpc.register(
    new (class Arith {
      Mul(a: { A: number; B: number }) {
        return { C: a.A * a.B };
      }
    })(),
  );
  const listener = await rpc.listen('tcp', '127.0.0.1:0');
  cleanups.push(() => rpc.shutdown({ timeoutMs: 2000 }));
  server.records.set('calc.rpcx.test', ['127.0.0.1']);
  const client = new XClient({
    servicePath: 'Arith',
    discovery: discovery({ domain: 'calc.rpcx.test', port: Number(listener.address.split(':').pop()) }),
    transports: [tcpTransport()],
    codecs: [msgpackCodec()],
  });
  cleanups.push(() => client.close());
  expect(await client.call('Mul', { A: 6, B: 7 })).toEqual({ C: 42 });
});

test('without servers, the system resolver answers (localhost from /etc/hosts); clone is the same name; no listAll', async () => {
  const d = dnsDiscovery({ domain: 'localhost', port: 8972, intervalMs: 1000 });
  cleanups.push(() => d.close());
  expect(keys(await d.getServices())).toContain('tcp@127.0.0.1:8972');
  const other = d.clone('Other');
  cleanups.push(() => other.close());
  expect(await other.getServices()).toEqual(await d.getServices());
  await expect(d.listAll()).rejects.toBeInstanceOf(UnsupportedError);
});

test('bad options are refused up front', () => {
  expect(() => dnsDiscovery({ domain: '', port: 1 })).toThrow(/domain/);
  expect(() => dnsDiscovery({ domain: 'x', port: 0 })).toThrow(/port/);
  expect(() => dnsDiscovery({ domain: 'x', port: 1, intervalMs: 0 })).toThrow(/intervalMs/);
});
