// `rpcx ui`: its help, the mistakes it refuses before serving anything, and its life as a
// process (prints where it serves, stops on SIGTERM). The console itself is tested in
// packages/ui/test (the data API, and in Chromium through this command).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { run, type Io } from '../src/index.js';
import { rpcx } from './rpcx-child.js';
// @ts-expect-error: a plain ES module without types (@rpcx/ui's build step).
import { buildWeb } from '../../ui/build-web.mjs';

function capture(): { io: { out: string; err: string }; sink: Io } {
  const io = { out: '', err: '' };
  return { io, sink: { out: (t) => void (io.out += t), err: (t) => void (io.err += t), errIsTTY: false, readStdin: async () => Buffer.alloc(0) } };
}

test('help: rpcx ui --help, rpcx help ui, and the command list', async () => {
  const a = capture();
  const b = capture();
  const top = capture();
  expect(await run(['ui', '--help'], a.sink)).toBe(0);
  expect(await run(['help', 'ui'], b.sink)).toBe(0);
  expect(await run(['--help'], top.sink)).toBe(0);
  expect(a.io.out).toMatch(/^Usage: rpcx ui <registry\|address> \[options\]\n/);
  expect(a.io.out).toContain('--listen HOST:PORT');
  expect(a.io.out).toContain('--auth TOKEN');
  expect(b.io.out).toBe(a.io.out);
  expect(top.io.out).toContain('rpcx ui    <registry|address> [--listen 127.0.0.1:8088] [--auth TOKEN]');
});

test.each([
  [['ui'], 'rpcx ui: missing <address|registry>'],
  [['ui', 'tcp@127.0.0.1:1', 'extra'], 'rpcx ui: unexpected argument "extra"'],
  [['ui', 'tcp@127.0.0.1:1', '--listen', 'nowhere'], 'rpcx ui: invalid --listen "nowhere": expected host:port, e.g. 127.0.0.1:8088'],
  [['ui', 'tcp@127.0.0.1:1', '--listen', '0.0.0.0:8088'], 'rpcx ui: --listen 0.0.0.0:8088 is reachable from other machines: give --auth TOKEN too'],
  [['ui', 'tcp@127.0.0.1:1', '--auth', 'short'], 'rpcx ui: --auth: the token must be at least 8 characters'],
  [['ui', 'ftp://x/y'], 'rpcx ui: ftp://x/y: unknown registry; use etcd://, zookeeper://, consul:// or redis://host:port/basePath, or mdns://'],
])('%j: exit 2 and what is wrong, nothing served', async (argv, message) => {
  const c = capture();
  expect(await run(argv, c.sink)).toBe(2);
  expect(c.io.err).toBe(`${message}\nRun "rpcx ui --help" for usage.\n`);
  expect(c.io.out).toBe('');
});

test('a registry that is not there: exit 1 and a clear message, in bounded time', async () => {
  await buildWeb();
  const r = await rpcx(['ui', 'etcd://127.0.0.1:1/rpcx_ui', '--listen', '127.0.0.1:0', '--timeout', '1s'], { limitMs: 20_000 });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^rpcx ui: cannot read etcd:\/\/127\.0\.0\.1:1\/rpcx_ui: .*(ECONNREFUSED|no answer within 1000 ms)/);
  expect(r.ms).toBeLessThan(15_000);
}, 30_000);

test('serves until SIGTERM, printing where; exit 0', async () => {
  await buildWeb();
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'ui', 'tcp@127.0.0.1:1', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const url = /^rpcx ui: tcp@127\.0\.0\.1:1 at (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(line)?.[1];
    expect(url).toBeDefined();
    const estate = (await (await fetch(`${url}api/estate`)).json()) as { kind: string; servers: string[] };
    expect(estate).toMatchObject({ kind: 'server', servers: ['tcp@127.0.0.1:1'] });
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}, 30_000);
