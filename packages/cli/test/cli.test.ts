// The `rpcx` command as a user runs it (a child process) against a TS server
// and a real Go rpcx server (interop/go `peer serve`) with the seed examples' services, and
// against a throwaway etcd holding registrations laid out as rpcx-etcd writes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type Io } from '../src/index.js';
import { rpcx, type RpcxResult } from './rpcx-child.js';
import { startGoServer, type GoServer } from '../../../interop/test/support/go-peer.js';
import { buildRegpeer, startGoRegisteredServer, type GoRegisteredServer } from '../../../interop/test/support/registry-peer.js';
import { startTsServer } from '../../../interop/test/support/services.js';
import { ZooKeeperServer } from '../../registry-zookeeper/test/zookeeper-server.js';

const mul = '{"A":10,"B":20}';

describe('rpcx against a TS server and a Go rpcx server', () => {
  let go: GoServer;
  let goAuth: GoServer;
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  const both = () => [
    ['go', go.key],
    ['ts', ts.key],
  ];

  beforeAll(async () => {
    [go, goAuth, ts] = await Promise.all([startGoServer(), startGoServer(['--auth', 's3cret']), startTsServer()]);
  });
  afterAll(async () => {
    await Promise.all([go?.stop(), goAuth?.stop(), ts?.server.close()]);
  });

  test('call Arith.Mul and the seed example ServiceUser.UserInfo, msgpack and json, on both', async () => {
    const runs = await Promise.all(
      both().flatMap(([side, key]) => [
        rpcx(['call', key, 'Arith.Mul', mul]).then((r) => ({ side, what: 'mul msgpack', r })),
        rpcx(['call', key.replace('tcp@', ''), 'Arith.Mul', mul, '--codec', 'json']).then((r) => ({ side, what: 'mul json', r })),
        rpcx(['call', key, 'ServiceUser.UserInfo', '{"Uid":999}']).then((r) => ({ side, what: 'user msgpack', r })),
        rpcx(['call', key, 'ServiceUser.UserInfo', '-', '--codec', 'json'], { stdin: '{"Uid":999}' }).then((r) => ({ side, what: 'user json', r })),
      ]),
    );
    for (const { side, what, r } of runs) {
      expect({ side, what, code: r.code, stderr: r.stderr }).toEqual({ side, what, code: 0, stderr: '' });
    }
    const out = (side: string, what: string) => JSON.parse(runs.find((x) => x.side === side && x.what === what)!.r.stdout);
    for (const side of ['go', 'ts']) {
      expect(out(side, 'mul msgpack')).toEqual({ C: 200 });
      expect(out(side, 'mul json')).toEqual({ C: 200 });
      expect(out(side, 'user msgpack')).toEqual({ UID: 999, AddTime: 14990093, UserType: 2, Uface: 'http://image.xxxx.xxx/t.gif', UserName: 'Joke' });
      expect(out(side, 'user json')).toEqual({ id: 999, addtime: 14990093, utype: 2, uface: 'http://image.xxxx.xxx/t.gif', uname: 'Joke' });
    }
    // The reply is printed as indented JSON.
    expect(runs[0].r.stdout).toBe('{\n  "C": 200\n}\n');
  });

  test('metadata, auth and response metadata', async () => {
    const [goMeta, tsMeta, denied, allowed] = await Promise.all([
      rpcx(['call', go.key, 'Arith.Meta', mul, '--meta', 'trace=on', '--meta', 'x=a=b', '--show-meta', '--codec', 'json']),
      rpcx(['call', ts.key, 'Arith.Meta', mul, '--meta', 'trace=on', '--meta', 'x=a=b', '--show-meta', '--codec', 'json']),
      rpcx(['call', goAuth.key, 'Arith.Mul', mul]),
      rpcx(['call', goAuth.key, 'Arith.Mul', mul, '--auth', 's3cret']),
    ]);
    for (const r of [goMeta, tsMeta]) {
      expect(r.code).toBe(0);
      // trace, x and the __ServerTimeout of --timeout's default 5s
      expect(JSON.parse(r.stdout)).toEqual({ C: 3 });
      expect(JSON.parse(r.stderr)).toMatchObject({ 'echo-trace': 'on', 'echo-x': 'a=b', 'echo-__ServerTimeout': '5000' });
    }
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('rpcx call: Arith.Mul failed on the server: invalid token\n');
    expect([allowed.code, JSON.parse(allowed.stdout)]).toEqual([0, { C: 200 }]);
  });

  test('unknown method and unknown service: the server text, exit 1', async () => {
    const rs = await Promise.all(both().flatMap(([, key]) => [rpcx(['call', key, 'Arith.Nope', '{}']), rpcx(['call', key, 'Nope.Mul', '{}'])]));
    for (let i = 0; i < rs.length; i += 2) {
      expect([rs[i].code, rs[i].stdout, rs[i].stderr]).toEqual([1, '', "rpcx call: Arith.Nope failed on the server: rpcx: can't find method Nope\n"]);
      expect([rs[i + 1].code, rs[i + 1].stderr]).toEqual([1, "rpcx call: Nope.Mul failed on the server: rpcx: can't find service Nope\n"]);
    }
  });

  test('a server that does not answer in --timeout: exit 1, within the timeout', async () => {
    // Accepts and reads, never answers. (A real server's Arith.Slow stops at the deadline the
    // client sends as __ServerTimeout and may answer just before the client gives up.)
    const sockets = new Set<import('node:net').Socket>();
    const mute = createServer((s) => (sockets.add(s), s.resume()));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const port = (mute.address() as { port: number }).port;
      // Starting the command costs seconds on a loaded machine: compare with a run that only
      // starts and exits, made just before. A client ignoring --timeout would wait ~20 s.
      const start = await rpcx(['--help']);
      const r = await rpcx(['call', `tcp@127.0.0.1:${port}`, 'Arith.Mul', mul, '--timeout', '300ms']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`rpcx call: no reply from tcp@127.0.0.1:${port} within 300 ms (call timeout)\n`);
      expect(r.ms).toBeLessThan(start.ms + 3000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => mute.close(r));
    }
  });

  test('bench: progress-free summary, calls/s and percentiles, on both', async () => {
    const rs = await Promise.all(
      both().map(([, key]) => rpcx(['bench', key, 'Arith.Mul', mul, '--clients', '2', '--inflight', '4', '--duration', '1s', '--json'])),
    );
    for (const r of rs) {
      expect([r.code, r.stderr]).toEqual([0, '']);
      const s = JSON.parse(r.stdout);
      expect(s).toMatchObject({ method: 'Arith.Mul', codec: 'msgpack', clients: 2, inflight: 4, errors: 0 });
      expect(s.calls).toBeGreaterThan(50);
      expect(s.latencyMs.p50).toBeGreaterThan(0);
      expect(s.latencyMs.p50).toBeLessThanOrEqual(s.latencyMs.p99);
      expect(s.latencyMs.p99).toBeLessThanOrEqual(s.latencyMs.max);
    }
    const table = await rpcx(['bench', ts.key, 'ServiceUser.UserInfo', '{"Uid":999}', '--duration', '300ms']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ServiceUser\.UserInfo at tcp@127\.0\.0\.1:\d+, msgpack, 1 × 16 in flight, [\d.]+s\n\ncalls +calls\/s +errors +min +p50 +p90 +p99 +max\n\d+ +\d+ +0 /);
  });

  test('bench of an unknown method fails at once with the server text', async () => {
    const r = await rpcx(['bench', go.key, 'Arith.Nope', '{}', '--duration', '10s']);
    expect([r.code, r.stderr]).toEqual([1, "rpcx bench: Arith.Nope failed on the server: rpcx: can't find method Nope\n"]);
    expect(r.ms).toBeLessThan(5000);
  });
});

describe('rpcx: help and mistakes', () => {
  test('--help, per-command help and --version', async () => {
    const [top, call, list, bench, version, bare] = await Promise.all([
      rpcx(['--help']),
      rpcx(['call', '--help']),
      rpcx(['help', 'list']),
      rpcx(['bench', '-h']),
      rpcx(['--version']),
      rpcx([]),
    ]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^rpcx — call rpcx services/);
    expect(top.stdout).toContain('rpcx call  <address|registry> <Service.Method> [json-args] [options]');
    expect(call.stdout).toContain('--codec json|msgpack|raw');
    expect(call.stdout).toContain("rpcx call tcp@127.0.0.1:8972 Arith.Mul '{\"A\":10,\"B\":20}'");
    expect(list.stdout).toMatch(/^Usage: rpcx list <registry> \[Service\]/);
    expect(bench.stdout).toContain('--inflight N');
    expect([version.code, version.stdout]).toEqual([0, '0.1.0\n']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^rpcx — call rpcx services/);
  });

  const MISTAKES: [string, string[], string][] = [
    ['unknown command', ['frob'], 'rpcx: unknown command "frob"'],
    ['no address', ['call'], 'rpcx call: missing <address|registry>'],
    ['no method', ['call', '127.0.0.1:8972'], 'rpcx call: missing <Service.Method>'],
    ['method without service', ['call', '127.0.0.1:8972', 'Mul'], 'rpcx call: "Mul" is not Service.Method (e.g. Arith.Mul)'],
    ['bad JSON', ['call', '127.0.0.1:8972', 'Arith.Mul', '{A:1}'], 'rpcx call: the arguments are not valid JSON'],
    ['JSON split by the shell', ['call', '127.0.0.1:8972', 'Arith.Mul', '{"A":', '1}'], 'rpcx call: unexpected argument "1}" (quote the JSON arguments as one word)'],
    ['unknown option', ['call', '127.0.0.1:8972', 'Arith.Mul', '--colour'], "rpcx call: Unknown option '--colour'"],
    ['unknown codec', ['call', '127.0.0.1:8972', 'Arith.Mul', '--codec', 'xml'], 'rpcx call: unknown --codec "xml": json, msgpack or raw'],
    ['bad duration', ['call', '127.0.0.1:8972', 'Arith.Mul', '--timeout', '5'], 'rpcx call: invalid --timeout "5": use a duration such as 500ms, 5s or 1m'],
    ['bad metadata', ['call', '127.0.0.1:8972', 'Arith.Mul', '--meta', 'novalue'], 'rpcx call: invalid --meta "novalue": expected key=value'],
    ['bad address', ['call', 'localhost', 'Arith.Mul'], 'rpcx call: "localhost" is not an address (missing port in address: "localhost"); e.g. tcp@127.0.0.1:8972'],
    ['unknown registry', ['call', 'nacos://127.0.0.1:8848/x', 'Arith.Mul'], 'rpcx call: nacos://127.0.0.1:8848/x: unknown registry'],
    ['registry without base path', ['list', 'etcd://127.0.0.1:2379'], 'rpcx list: etcd://127.0.0.1:2379: no base path, e.g. etcd://127.0.0.1:2379/rpcx_test'],
    ['list of a server', ['list', 'tcp@127.0.0.1:8972'], 'rpcx list: "tcp@127.0.0.1:8972" is a server, not a registry'],
    ['bench with zero clients', ['bench', '127.0.0.1:8972', 'Arith.Mul', '--clients', '0'], 'rpcx bench: invalid --clients "0": expected a positive whole number'],
  ];
  // Each is a process start (about a second): run them three at a time up front, check them one by one.
  const results = new Map<string, RpcxResult>();
  beforeAll(async () => {
    const queue = [...MISTAKES];
    const lane = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) results.set(next[0], await rpcx(next[1]));
    };
    await Promise.all([lane(), lane(), lane()]);
  }, 60_000);

  test.each(MISTAKES)('%s: exit 2 and a clear message', (name, args, message) => {
    const r = results.get(name)!;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(message)).toBe(true);
    if (args[0] !== 'frob') expect(r.stderr).toMatch(/Run "rpcx( \w+)? --help" for usage\.\n$/);
  });

  test('an unreachable server: exit 1, the dial error, in bounded time', async () => {
    // A port nobody listens on: bind one, note it, close it.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await rpcx(['call', `tcp@127.0.0.1:${port}`, 'Arith.Mul', mul]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`rpcx call: cannot reach tcp@127.0.0.1:${port}: dial tcp 127.0.0.1:${port}: connect: connection refused\n`);
    expect(r.ms).toBeLessThan(5000);
  });

  test('--codec raw: the payload bytes from stdin reach the server as they are, and the reply bytes are printed as they came', async () => {
    const ts = await startTsServer();
    try {
      const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const out: Uint8Array[] = [];
      const sink: Io = { out: (t) => void out.push(typeof t === 'string' ? Buffer.from(t) : t), err: () => {}, errIsTTY: false, readStdin: async () => payload };
      expect(await run(['call', ts.key, 'Echo.Echo', '-', '--codec', 'raw'], sink)).toBe(0);
      expect(Buffer.concat(out).equals(payload)).toBe(true);
    } finally {
      await ts.server.close();
    }
  });

  test('the bench progress line is drawn only on a terminal', async () => {
    const ts = await startTsServer();
    try {
      const capture = (errIsTTY: boolean) => {
        const io = { out: '', err: '' };
        const sink: Io = { out: (t) => void (io.out += t), err: (t) => void (io.err += t), errIsTTY, readStdin: async () => Buffer.alloc(0) };
        return { io, sink };
      };
      const tty = capture(true);
      const pipe = capture(false);
      const args = ['bench', ts.key, 'Arith.Mul', mul, '--duration', '500ms', '--inflight', '2'];
      expect(await run(args, tty.sink)).toBe(0);
      expect(await run(args, pipe.sink)).toBe(0);
      expect(tty.io.err).toMatch(/\r\x1b\[2K\d+\.\ds {2}\d+ calls {2}\d+\/s {2}p50 [\d.]+ms {2}errors 0/);
      expect(tty.io.err.endsWith('\r\x1b[2K')).toBe(true);
      expect(pipe.io.err).toBe('');
      expect(pipe.io.out).toContain('calls/s');
    } finally {
      await ts.server.close();
    }
  });
});

/** A throwaway etcd on loopback (Debian package etcd-server). */
async function startEtcd(): Promise<{ endpoint: string; process: ChildProcess; stop(): Promise<void> }> {
  const free = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  const [client, peer] = [await free(), await free()];
  const dir = mkdtempSync(join(tmpdir(), 'rpcx-cli-etcd-'));
  const child = spawn(
    'etcd',
    [
      '--name=cli',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=cli=http://127.0.0.1:${peer}`,
      '--log-level=error',
    ],
    { stdio: 'ignore' },
  );
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`cannot start etcd (apt-get install -y etcd-server): ${err.message}`)));
  });
  await spawned;
  const endpoint = `127.0.0.1:${client}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 150; i++) {
    try {
      const res = await fetch(`http://${endpoint}/health`, { signal: AbortSignal.timeout(500) });
      if (res.ok) return { endpoint, process: child, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error('etcd did not become healthy in 15 s');
}

describe('rpcx with an etcd registry', () => {
  let etcd: Awaited<ReturnType<typeof startEtcd>>;
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  let go: GoServer;

  /** Put a key through etcd's v3 JSON gateway. */
  const put = async (key: string, value: string) => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const res = await fetch(`http://${etcd.endpoint}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(key), value: b64(value) }) });
    expect(res.ok).toBe(true);
  };

  beforeAll(async () => {
    [etcd, ts, go] = await Promise.all([startEtcd(), startTsServer(), startGoServer()]);
    // What rpcx-etcd's register plugin writes: the service key, then one key per server.
    await put('/rpcx_test/Arith', '');
    await put(`/rpcx_test/Arith/${ts.key}`, 'group=ts');
    await put(`/rpcx_test/Arith/${go.key}`, 'group=go&weight=2');
    await put('/rpcx_test/ServiceUser', '');
    await put(`/rpcx_test/ServiceUser/${go.key}`, '');
    await put('/other/Arith/tcp@127.0.0.1:1', '');
  }, 30_000);
  afterAll(async () => {
    await Promise.all([etcd?.stop(), ts?.server.close(), go?.stop()]);
  });

  test('list every service, and the servers of one', async () => {
    const url = `etcd://${etcd.endpoint}/rpcx_test`;
    const [all, one, asJson] = await Promise.all([rpcx(['list', url]), rpcx(['list', url, 'Arith']), rpcx(['list', url, '--json'])]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n').map((l) => l.trim().split(/ +/));
    expect(lines).toEqual([
      ['SERVICE', 'SERVER', 'METADATA'],
      ...[
        ['Arith', go.key, 'group=go&weight=2'],
        ['Arith', ts.key, 'group=ts'],
      ].sort((a, b) => (a[1] < b[1] ? -1 : 1)),
      ['ServiceUser', go.key],
    ]);
    expect(one.code).toBe(0);
    expect(one.stdout.split('\n').filter((l) => l.startsWith('Arith')).length).toBe(2);
    expect(JSON.parse(asJson.stdout)).toEqual({
      Arith: expect.arrayContaining([
        { server: ts.key, metadata: 'group=ts' },
        { server: go.key, metadata: 'group=go&weight=2' },
      ]),
      ServiceUser: [{ server: go.key, metadata: '' }],
    });
  });

  test('call and bench through the registry', async () => {
    const url = `etcd://${etcd.endpoint}/rpcx_test`;
    const [mulR, user, benchR, missing] = await Promise.all([
      rpcx(['call', url, 'Arith.Mul', mul]),
      rpcx(['call', url, 'ServiceUser.UserInfo', '{"Uid":999}', '--codec', 'json']),
      rpcx(['bench', url, 'Arith.Mul', mul, '--duration', '300ms', '--clients', '2', '--json']),
      rpcx(['call', url, 'Nope.Mul', '{}']),
    ]);
    expect([mulR.code, JSON.parse(mulR.stdout)]).toEqual([0, { C: 200 }]);
    expect([user.code, JSON.parse(user.stdout).uname]).toEqual([0, 'Joke']);
    expect([benchR.code, JSON.parse(benchR.stdout).errors]).toEqual([0, 0]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(new RegExp(`^rpcx call: etcd://${etcd.endpoint.replace(/\./g, '\\.')}/rpcx_test: `));
  });

  test("the keys Go's own rpcx-etcd plugin writes list and call the same way", async () => {
    buildRegpeer();
    const registered = await startGoRegisteredServer({ registry: 'etcd', endpoint: etcd.endpoint, basePath: '/rpcx_go' });
    try {
      // The Go plugin may write its key just after it starts serving: wait until etcd has it.
      const b64 = (t: string) => Buffer.from(t).toString('base64');
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`http://${etcd.endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64(`/rpcx_go/Arith/${registered.key}`) }) });
        if (((await res.json()) as { kvs?: unknown[] }).kvs?.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = `etcd://${etcd.endpoint}/rpcx_go`;
      const [all, called] = await Promise.all([rpcx(['list', url, '--json']), rpcx(['call', url, 'Arith.Mul', mul])]);
      expect(all.code).toBe(0);
      expect(JSON.parse(all.stdout)).toEqual({ Arith: [{ server: registered.key, metadata: expect.any(String) }] });
      expect([called.code, JSON.parse(called.stdout)]).toEqual([0, { C: 200 }]);
    } finally {
      await registered.stop();
    }
  });

  test('an etcd that is not there: exit 1, the cause of the failure, in bounded time', async () => {
    // A port nobody listens on (not port 1: fetch refuses that one as a "bad port" before dialling).
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await rpcx(['list', `etcd://127.0.0.1:${port}/rpcx_test`, '--timeout', '1s']);
    expect(r.code).toBe(1);
    // The client library's own message may be generic; the cause chain says why.
    expect(r.stderr).toMatch(new RegExp(`^rpcx list: etcd://127\\.0\\.0\\.1:${port}/rpcx_test: cannot read etcd: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    expect(r.ms).toBeLessThan(5000);
  });
});

/** Whether ZooKeeper takes sessions yet (`srvr` reports a Mode only then). */
function zkServing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.end('srvr'));
    socket.on('data', (d) => (reply += d));
    socket.on('close', () => resolve(reply.includes('Mode:')));
    socket.on('error', () => resolve(false));
  });
}

describe('rpcx with a ZooKeeper registry where Go rpcx registered itself', () => {
  let zk: ZooKeeperServer;
  let registered: GoRegisteredServer;

  beforeAll(async () => {
    buildRegpeer();
    zk = await ZooKeeperServer.start();
    for (let i = 0; i < 200 && !(await zkServing(zk.port)); i++) await new Promise((r) => setTimeout(r, 100));
    registered = await startGoRegisteredServer({ registry: 'zookeeper', endpoint: zk.endpoint, basePath: '/rpcx_cli' });
  }, 60_000);
  afterAll(async () => {
    await registered?.stop();
    await zk?.destroy();
  });

  test('list the servers of a service and every service, call through the registry', async () => {
    const url = `zookeeper://${zk.endpoint}/rpcx_cli`;
    const [one, called, all] = await Promise.all([rpcx(['list', url, 'Arith', '--json']), rpcx(['call', url, 'Arith.Mul', mul]), rpcx(['list', url])]);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ Arith: [{ server: registered.key, metadata: expect.any(String) }] });
    expect([called.code, JSON.parse(called.stdout)]).toEqual([0, { C: 200 }]);
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n').filter((l) => l.startsWith('Arith ')).map((l) => l.trim().split(/ +/)[1])).toEqual([registered.key]);
  });
});
