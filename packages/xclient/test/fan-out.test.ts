// broadcast / fork / inform as Go's: servers that cannot be dialled are skipped, none left is
// "can not found any server", and a guard bounds the whole call.
import { CallTimeoutError, DialError, MultiError, NoServerError } from '@rpcx/core';
import { XClient, multipleServers, type XClientOptions } from '@rpcx/xclient';
import { codec, deadServerKey, startServer, transport, type TestServer } from './support.js';

const servers: TestServer[] = [];
const clients: XClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.kill()));
});

async function serve(name: string, behaviour: Parameters<typeof startServer>[1] = {}): Promise<TestServer> {
  const s = await startServer(name, behaviour);
  servers.push(s);
  return s;
}

function client(keys: string[], options: Partial<XClientOptions> = {}): XClient {
  const c = new XClient({ servicePath: 'Who', discovery: multipleServers(keys.map((key) => ({ key, value: '' }))), transports: [transport], codecs: [codec], ...options });
  clients.push(c);
  return c;
}

test('broadcast succeeds when every server does, calling each once, with the first reply', async () => {
  const all = [await serve('a'), await serve('b'), await serve('c')];
  const c = client(all.map((s) => s.key));
  expect(['a', 'b', 'c']).toContain(await c.broadcast('Name', null));
  expect(all.map((s) => s.calls)).toEqual([1, 1, 1]);
});

test('a server that cannot be dialled is left out of broadcast, fork and inform', async () => {
  const dead = await deadServerKey();
  const [a, b] = [await serve('a'), await serve('b')];
  const c = client([dead, a.key, b.key]);
  expect(['a', 'b']).toContain(await c.broadcast('Name', null));
  expect(['a', 'b']).toContain(await c.fork('Name', null));
  const receipts = await c.inform<string>('Name', null);
  expect(receipts.map((r) => r.reply).sort()).toEqual(['a', 'b']);
  expect(receipts.every((r) => r.error === undefined)).toBe(true);
  expect([a.calls, b.calls]).toEqual([3, 3]);
});

test('with every server down, each fan-out fails with "can not found any server", the dial errors as cause', async () => {
  const c = client([await deadServerKey(), await deadServerKey()]);
  for (const fanOut of [() => c.broadcast('Name', null), () => c.fork('Name', null), () => c.inform('Name', null)]) {
    const err = await fanOut().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoServerError);
    expect((err as Error).message).toBe('can not found any server');
    const cause = (err as Error).cause as MultiError;
    expect(cause).toBeInstanceOf(MultiError);
    expect(cause.errors).toHaveLength(2);
    for (const e of cause.errors) expect(e).toBeInstanceOf(DialError);
  }
});

test('fanOutTimeoutMs bounds the whole call (Go: one minute) and its failures say "timeout"', async () => {
  const slow = await serve('slow', { delayMs: 3_000 });
  const c = client([slow.key], { fanOutTimeoutMs: 100 });
  const started = performance.now();
  const err = await c.broadcast('Name', null).catch((e: unknown) => e);
  expect(performance.now() - started).toBeLessThan(2_500);
  expect(err).toBeInstanceOf(MultiError);
  expect((err as MultiError).errors[0]).toBeInstanceOf(CallTimeoutError);
  expect((err as MultiError).errors[0].message).toBe('timeout');
});
