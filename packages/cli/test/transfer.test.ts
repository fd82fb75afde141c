// `rpcx upload` and `rpcx download` as a user runs them (child processes), against a TS server
// with @rpcx/file-transfer and a real Go rpcx server (interop/go `peer transfer-serve`); the
// progress bar through `run` with a terminal-like stderr.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type Io } from '../src/index.js';
import { rpcx } from './rpcx-child.js';
import { startGoServer, type GoServer } from '../../../interop/test/support/go-peer.js';
import { startTsTransferServer } from '../../../interop/test/support/transfer.js';

const root = mkdtempSync(join(tmpdir(), 'rpcx-cli-transfer-'));
const [local, goDir, tsDir] = ['local', 'go', 'ts'].map((d) => join(root, d));
let go: GoServer;
let ts: Awaited<ReturnType<typeof startTsTransferServer>>;
const data = randomBytes(3 * 1024 * 1024 + 3);

beforeAll(async () => {
  for (const d of [local, goDir, tsDir]) mkdirSync(d);
  writeFileSync(join(local, 'data.bin'), data);
  writeFileSync(join(local, 'hello.txt'), 'hello, rpcx\n');
  [go, ts] = await Promise.all([startGoServer(['--dir', goDir], 'transfer-serve'), startTsTransferServer(tsDir)]);
});
afterAll(async () => {
  await Promise.all([go?.stop(), ts?.server.close()]);
  rmSync(root, { recursive: true, force: true });
});

test.each([
  ['TS', () => [ts.key, tsDir] as const],
  ['Go', () => [go.key, goDir] as const],
])('upload and download against a %s server, byte for byte', async (_side, where) => {
  const [key, dir] = where();
  const up = await rpcx(['upload', key, join(local, 'data.bin'), '--name', 'stored.bin', '--meta', 'from=cli']);
  expect(up.stderr).toBe('');
  expect(up.code).toBe(0);
  expect(up.stdout).toMatch(new RegExp(`^uploaded stored\\.bin: ${data.length} bytes in \\d+\\.\\ds`));
  // Go's server takes the last bytes just after the client is done.
  for (let i = 0; i < 200 && !(existsSync(join(dir, 'stored.bin')) && readFileSync(join(dir, 'stored.bin')).length === data.length); i++) await new Promise((r) => setTimeout(r, 10));
  expect(readFileSync(join(dir, 'stored.bin')).equals(data)).toBe(true);

  const out = join(local, `back-${_side}.bin`);
  const down = await rpcx(['download', key, 'stored.bin', out, '--json']);
  expect(down.code).toBe(0);
  expect(JSON.parse(down.stdout)).toMatchObject({ downloaded: `stored.bin → ${out}`, bytes: data.length, server: key });
  expect(readFileSync(out).equals(data)).toBe(true);
});

test('download to stdout with -, and JSON calls', async () => {
  expect((await rpcx(['upload', ts.key, join(local, 'hello.txt'), '--codec', 'json'])).code).toBe(0);
  const r = await rpcx(['download', ts.key, 'hello.txt', '-', '--codec', 'json']);
  expect(r).toMatchObject({ code: 0, stdout: 'hello, rpcx\n', stderr: '' });
});

test('a missing file: exit 1 with the server’s reason, and no file left behind', async () => {
  const out = join(local, 'never.bin');
  const r = await rpcx(['download', ts.key, 'missing.bin', out]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('rpcx download: download of missing.bin failed: the server said: file not found: missing.bin\n');
  expect(existsSync(out)).toBe(false);
  const up = await rpcx(['upload', ts.key, join(local, 'nope.bin')]);
  expect(up).toMatchObject({ code: 1, stderr: `rpcx upload: cannot read ${join(local, 'nope.bin')}: no such file\n` });
});

test('wrong arguments: exit 2 with the usage hint', async () => {
  const io = { out: '', err: '' };
  const sink: Io = { out: (t) => void (io.out += t), err: (t) => void (io.err += t), errIsTTY: false, readStdin: async () => Buffer.alloc(0) };
  expect(await run(['upload', ts.key], sink)).toBe(2);
  expect(io.err).toBe('rpcx upload: missing <file>\nRun "rpcx upload --help" for usage.\n');
  io.err = '';
  expect(await run(['upload', ts.key, 'x', '--rate', 'fast'], sink)).toBe(2);
  expect(io.err).toContain('invalid --rate "fast": expected bytes, e.g. 500K, 10M or 1G');
  expect(await run(['download', '--help'], sink)).toBe(0);
  expect(io.out).toContain('Usage: rpcx download <address|registry> <name> [out] [options]');
});

test('on a terminal, a progress bar reaches 100% and is cleared; elsewhere nothing is drawn', async () => {
  const capture = async (errIsTTY: boolean) => {
    const io = { out: '', err: '' };
    const sink: Io = { out: (t) => void (io.out += t), err: (t) => void (io.err += t), errIsTTY, readStdin: async () => Buffer.alloc(0) };
    expect(await run(['upload', ts.key, join(local, 'data.bin'), '--name', `tty-${errIsTTY}.bin`], sink)).toBe(0);
    return io;
  };
  const tty = await capture(true);
  expect(tty.err).toContain(`tty-true.bin  [${'#'.repeat(30)}] 100%  3.0 MiB / 3.0 MiB`);
  expect(tty.err.endsWith('\r\x1b[2K')).toBe(true);
  const plain = await capture(false);
  expect(plain.err).toBe('');
  expect(plain.out).toMatch(/^uploaded tty-false\.bin: /);
});
