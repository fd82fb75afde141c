// Every example of the seed documents runs here as a user runs it (`tsx <example>/run.ts`, from
// examples/), and prints what its comments promise. Each one is a child process on loopback
// with a deadline, killed by PID if it overruns; TLS and QUIC get a throwaway certificate.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdServer } from '../../packages/registry-etcd/test/etcd-server.js';
import { DEADLINE_MS, run, runToEnd, serve, stop, terminate } from './support.js';

let certs: string;
beforeAll(() => {
  certs = mkdtempSync(join(tmpdir(), 'rpcx-example-certs-'));
  // The command the TLS and QUIC examples' comments give.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem'),
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
});
afterAll(() => rmSync(certs, { recursive: true, force: true }));

const certArgs = () => ['--cert', join(certs, 'cert.pem'), '--key', join(certs, 'key.pem')];
const TIMEOUT = 2 * DEADLINE_MS;

test('arith: server and client in one process, 1000 concurrent calls', async () => {
  const lines = await run('arith/run.ts');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+$/);
  expect(lines.slice(1)).toEqual(['client: 10 * 20 = 200', 'client: 10 + 20 = 30', 'client: 1000 concurrent calls on one connection, all correct: true', 'done']);
}, TIMEOUT);

test('member: the server (a class and a function) and its client, as two processes', async () => {
  const server = await serve('member/server.ts', ['--addr', '127.0.0.1:0'], /listening on tcp@(\S+)\n/);
  try {
    const lines = await run('member/client.ts', ['--addr', server.match[1]!]);
    // console.log breaks a long object over lines: compare with the whitespace folded.
    expect(lines.join(' ').replace(/\s+/g, ' ')).toBe(
      "999 : { UID: 999, AddTime: 14990093, UserType: 2, Uface: 'http://image.xxxx.xxx/t.gif', UserName: 'Joke' } " +
        "888 : { UID: 888, AddTime: 10000999, UserType: 3, Uface: 'http://image.xxxx.xxx/reply.gif', UserName: 'Reply' }",
    );
    // SIGTERM: the server shuts down and exits 0.
    expect(await terminate(server.child)).toBe(0);
  } finally {
    stop(server.child);
  }
}, TIMEOUT);

test('member: with the server stopped, Failtry tries the same server 4 times (Go\'s 3 retries), Failfast once', async () => {
  const server = await serve('member/server.ts', ['--addr', '127.0.0.1:0'], /listening on tcp@(\S+)\n/);
  const address = server.match[1]!;
  expect(await terminate(server.child)).toBe(0);
  const refused = `dial tcp ${address}: connect: connection refused`;
  for (const [mode, attempts] of [['failtry', 4], ['failfast', 1]] as const) {
    const { code, output } = await runToEnd('member/client.ts', ['--addr', address, '--fail-mode', mode]);
    expect(code).toBe(1);
    expect(output.trimEnd().split('\n')).toEqual([
      ...Array.from({ length: attempts }, (_, i) => `attempt ${i + 1} on tcp@${address} failed: ${refused}`),
      `failed to call: ${refused}`,
    ]);
  }
}, TIMEOUT);

test('etcd: two servers register in a throwaway etcd, the client finds both and calls them in turn', async () => {
  const etcd = await EtcdServer.start();
  const servers: ChildProcess[] = [];
  try {
    const addresses: string[] = [];
    for (let i = 0; i < 2; i++) {
      const server = await serve('etcd/server.ts', ['--addr', '127.0.0.1:0', '--etcdAddr', etcd.endpoint], /listening on (tcp@\S+), registered/);
      servers.push(server.child);
      addresses.push(server.match[1]!);
    }
    const lines = await run('etcd/client.ts', ['--etcdAddr', etcd.endpoint, '--calls', '4']);
    expect(lines.filter((_, i) => i % 2 === 1)).toEqual(['10 * 1 = 10', '10 * 2 = 20', '10 * 3 = 30', '10 * 4 = 40']);
    const answered = lines.filter((_, i) => i % 2 === 0).map((l) => l.replace('=== ', ''));
    // Round robin: the two servers take turns.
    expect(new Set(answered)).toEqual(new Set(addresses));
    expect(answered[0]).not.toBe(answered[1]);
    expect(answered[2]).toBe(answered[0]);

    // Stopped with SIGTERM, each server deletes its key: the next client finds none (libkv's text).
    for (const server of servers) expect(await terminate(server)).toBe(0);
    const after = await runToEnd('etcd/client.ts', ['--etcdAddr', etcd.endpoint, '--calls', '1']);
    expect(after.code).toBe(1);
    expect(after.output).toContain('Arith.Mul failed: Key not found in store: /rpcx_test/Arith');
  } finally {
    servers.forEach(stop);
    await etcd.destroy();
  }
}, 2 * TIMEOUT);

test('protobuf: ServiceUser.UserInfo and Mul over protobuf-es messages (serialize type 2)', async () => {
  expect(await run('protobuf/run.ts')).toEqual([
    'call: 10 * 20 = 200',
    'service: 999',
    '10 * 20 = 200',
    '999 : UID:999 AddTime:14990093 UserType:2 Uface:"http://image.xxxx.xxx/t.gif" UserName:"Joke"',
    'done',
  ]);
}, TIMEOUT);

test('codec: a custom codec under serialize type 5 carries a bigint, a Date and a Map', async () => {
  expect(await run('codec/run.ts')).toEqual([
    'service: 999',
    '999 : Joke, UID bigint 999, AddTime 2017-07-02T00:00:00.000Z, Tags true vip=2',
    'done',
  ]);
}, TIMEOUT);

test('multiple: a fixed list of servers, weighted round robin 1:9, then update()', async () => {
  expect(await run('multiple/run.ts')).toEqual([
    'weight=1 and weight=9, 10 calls: first 1, second 9',
    'after update() to the first server only, 3 calls: first 3, second 0',
    'done',
  ]);
}, TIMEOUT);

test('breaker: calls to the missing server fail, then fail fast with "breaker open"; the live one answers', async () => {
  const lines = await run('breaker/run.ts');
  expect(lines).toHaveLength(5);
  expect(lines.filter((l) => l.endsWith(': Joke'))).toHaveLength(2);
  const failures = lines.filter((l) => l.includes('failed'));
  expect(failures).toHaveLength(2);
  expect(failures[0]).toMatch(/failed: dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/);
  expect(failures[1]).toMatch(/failed: breaker open$/);
  expect(lines[4]).toBe('done');
}, TIMEOUT);

test('metadata: state=inactive servers are skipped, group picks servers by their group', async () => {
  expect(await run('metadata/run.ts')).toEqual([
    'no metadata: answered by first and second',
    'first inactive: answered by second',
    'both inactive: can not found any server',
    'group Member: answered by second',
    'group Me: can not found any server',
    'done',
  ]);
}, TIMEOUT);

test('fanout: Fork and Broadcast reach both servers; a refused broadcast and a fork with no server fail', async () => {
  const lines = await run('fanout/run.ts');
  // The two servers print in either order; fork may return before the slower one printed.
  for (const uid of [999, 888]) for (const server of [1, 2]) expect(lines).toContain(`server ${server}: service: ${uid}`);
  expect(lines.filter((l) => !l.startsWith('server '))).toEqual([
    'fork: 999 : Joke',
    'broadcast: 888 : Joke',
    expect.stringMatching(/^broadcast of a call every server refuses: .*no user -1 on server [12]/),
    'fork with both servers stopped: can not found any server',
    'done',
  ]);
  expect(lines.indexOf('broadcast: 888 : Joke')).toBeGreaterThan(Math.max(lines.indexOf('server 1: service: 888'), lines.indexOf('server 2: service: 888')));
}, TIMEOUT);

test('gateway: a plain HTTP client calls the service through the gateway with X-RPCX headers', async () => {
  expect(await run('gateway/run.ts')).toEqual([
    'HTTP 200: 999 : {"UID":999,"AddTime":14990093,"UserType":2,"Uface":"http://image.xxxx.xxx/t.gif","UserName":"Joke"}',
    "unknown method: HTTP 500, Error: rpcx: can't find method NoSuchMethod",
    'done',
  ]);
}, TIMEOUT);

test('unix: Arith over a unix socket', async () => {
  const lines = await run('unix/run.ts');
  expect(lines[0]).toMatch(/^server: Arith on unix@\/.*\/rpcx\.socket$/);
  expect(lines.slice(1)).toEqual(['client: 10 * 20 = 200', 'done']);
}, TIMEOUT);

test('tls: Arith over TLS with a throwaway certificate; a client without the CA is refused', async () => {
  const lines = await run('tls/run.ts', certArgs());
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+ \(TLS\)$/);
  expect(lines[1]).toBe('client: 10 * 20 = 200');
  expect(lines[2]).toMatch(/^client without the CA: dial tcp 127\.0\.0\.1:\d+: tls: self-signed certificate$/);
  expect(lines[3]).toBe('done');
}, TIMEOUT);

test('quic: Arith over QUIC with a throwaway certificate', async () => {
  const lines = await run('quic/run.ts', certArgs());
  expect(lines[0]).toMatch(/^server: Arith on quic@127\.0\.0\.1:\d+$/);
  expect(lines.slice(1)).toEqual(['client: 10 * 20 = 200', 'client: 100 calls on one QUIC connection, all correct: true', 'done']);
}, TIMEOUT);

test('inprocess: Arith over the memu network, no socket', async () => {
  expect(await run('inprocess/run.ts')).toEqual(['10 * 20 = 200 in 100 of 100 calls, in process', 'done']);
}, TIMEOUT);

test('kcp: Arith over KCP with FEC and the examples\' AES key', async () => {
  const lines = await run('kcp/run.ts');
  expect(lines[0]).toMatch(/^server: Arith on kcp@127\.0\.0\.1:\d+$/);
  expect(lines.slice(1)).toEqual(['client: 10 * 20 = 200', 'client: 1000 of 1000 calls correct', 'done']);
}, TIMEOUT);
