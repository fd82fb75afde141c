// XClient options that change timing and connections, each shown doing what it says.
import { rateBreaker } from '@rpcx/breaker';
import { BreakerOpenError, ConfigError, ConnectionError, FailMode, type DialOptions, type Transport } from '@rpcx/core';
import { XClient, multipleServers, type XClientOptions } from '@rpcx/xclient';
import { codec, deadServerKey, sleep, startServer, transport, waitFor, type TestServer } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function serve(name: string, behaviour: Parameters<typeof startServer>[1] = {}): Promise<TestServer> {
  const s = await startServer(name, behaviour);
  cleanups.push(() => s.kill());
  return s;
}

function client(keys: string[], options: Partial<XClientOptions> = {}): XClient {
  const c = new XClient({ servicePath: 'Who', discovery: multipleServers(keys.map((key) => ({ key, value: '' }))), transports: [transport], codecs: [codec], ...options });
  cleanups.push(() => c.close());
  return c;
}

test('unknown fail mode numbers are a ConfigError at construction', () => {
  expect(() => client(['tcp@127.0.0.1:1'], { failMode: 7 as FailMode })).toThrow(ConfigError);
  expect(() => client(['tcp@127.0.0.1:1'], { failMode: 7 as FailMode })).toThrow('unknown fail mode 7');
});

test('retryIntervalMs spaces the attempts', async () => {
  const dead = await deadServerKey();
  const at: number[] = [];
  const c = client([dead], {
    failMode: FailMode.Failtry,
    retries: 2,
    retryIntervalMs: 150,
    plugins: [{ connCreateFailed: () => void at.push(performance.now()) }],
  });
  await expect(c.call('Name', null)).rejects.toBeInstanceOf(ConnectionError);
  expect(at).toHaveLength(3);
  // Timers never fire early; allow a millisecond of clock rounding.
  expect(at[1] - at[0]).toBeGreaterThanOrEqual(149);
  expect(at[2] - at[1]).toBeGreaterThanOrEqual(149);
});

test('a rate breaker opens on failed dials, refuses without dialling, and closes after a successful probe', async () => {
  const server = await serve('a');
  await server.kill();
  const breaker = rateBreaker({ failureRate: 0.5, minSamples: 3, openMs: 300 });
  let dials = 0;
  const c = client([server.key], { breaker: () => breaker, plugins: [{ connCreateFailed: () => void dials++ }] });
  for (let i = 0; i < 3; i++) await expect(c.call('Name', null)).rejects.toBeInstanceOf(ConnectionError);
  expect(breaker.state()).toBe('open');
  await expect(c.call('Name', null)).rejects.toBeInstanceOf(BreakerOpenError);
  expect(dials).toBe(3);

  await server.restart();
  await waitFor(() => breaker.state() === 'half-open', 'the breaker to half-open');
  expect(await c.call('Name', null)).toBe('a'); // the probe
  // Its dial worked: unlike Go, which reports only failed dials, that closes the breaker.
  expect(breaker.state()).toBe('closed');
});

test('breakerCountsCallErrors: a rate breaker sees call outcomes and closes on a successful probe', async () => {
  const server = await serve('a');
  const breaker = rateBreaker({ failureRate: 0.5, minSamples: 3, openMs: 200 });
  const c = client([server.key], { breaker: () => breaker, breakerCountsCallErrors: true });
  // Timeouts count against the server; a ServiceError would not.
  const slow = { timeoutMs: 1 };
  await server.kill();
  const slowServer = await startServer('a', { delayMs: 200 }, Number(server.key.split(':').pop()));
  cleanups.push(() => slowServer.kill());
  for (let i = 0; i < 3; i++) await c.call('Name', null, slow).catch(() => undefined);
  expect(breaker.state()).toBe('open');
  await expect(c.call('Name', null)).rejects.toBeInstanceOf(BreakerOpenError);
  await waitFor(() => breaker.state() === 'half-open', 'the breaker to half-open');
  expect(await c.call('Name', null)).toBe('a');
  expect(breaker.state()).toBe('closed');
});

/** tcpTransport, recording the options of every dial. */
function recordingTransport(): Transport & { dials: DialOptions[] } {
  const dials: DialOptions[] = [];
  const tcp: Transport = transport;
  return {
    networks: tcp.networks,
    listen: tcp.listen.bind(tcp),
    dial(network, address, options) {
      dials.push(options ?? {});
      return tcp.dial(network, address, options);
    },
    dials,
  };
}

test("without connectTimeoutMs a dial carries no time limit, so the transport's own applies; with it, that limit", async () => {
  const a = await serve('a');
  const plain = recordingTransport();
  const c = client([a.key], { transports: [plain] });
  await c.call('Name', null);
  expect(plain.dials).toHaveLength(1);
  expect('timeoutMs' in plain.dials[0]).toBe(false);
  const signal = plain.dials[0].signal!;
  expect(signal.aborted).toBe(false);
  await c.close();
  expect(signal.aborted).toBe(true); // close() gives up dials still running

  const timed = recordingTransport();
  await client([a.key], { transports: [timed], connectTimeoutMs: 250 }).call('Name', null);
  expect(timed.dials[0].timeoutMs).toBe(250);
});

test("TLS and paths are the transport factory's (tcpTransport({ clientTls })): XClient has no tls or dialOptions (checked by pnpm typecheck)", async () => {
  const a = await serve('a');
  const stray = recordingTransport();
  // @ts-expect-error not an XClient option: a misspelt or misplaced setting does not compile
  await client([a.key], { transports: [stray], tls: { rejectUnauthorized: false }, dialOptions: { rpcPath: '/x' } }).call('Name', null);
  // Nothing of it reaches the transport: a dial gets only the client's signal.
  expect(Object.keys(stray.dials[0])).toEqual(['signal']);
});

test('idleTimeoutMs closes a connection nothing used for that long, never one with a call waiting', async () => {
  const a = await serve('a', { delayMs: 400 });
  let connects = 0;
  const disconnects: string[] = [];
  const c = client([a.key], { idleTimeoutMs: 150, plugins: [{ clientConnected: () => void connects++ }] });
  c.on('disconnect', (server) => disconnects.push(server));
  expect(await c.call('Name', null)).toBe('a'); // waits 400 ms, longer than the idle timeout
  expect(disconnects).toEqual([]);
  await waitFor(() => disconnects.length === 1, 'the idle connection to close');
  expect(disconnects).toEqual([a.key]);
  expect(await c.call('Name', null)).toBe('a');
  expect(connects).toBe(2);
});

test('timeToDisallowMs passes over a server whose dial failed, for that long', async () => {
  const dead = await deadServerKey();
  const b = await serve('b');
  let failedDials = 0;
  const c = client([dead, b.key], {
    failMode: FailMode.Failover,
    timeToDisallowMs: 300,
    selector: () => ({ select: () => dead, updateServers: () => {} }),
    plugins: [{ connCreateFailed: () => void failedDials++ }],
  });
  expect(await c.call('Name', null)).toBe('b');
  expect(failedDials).toBe(1);
  for (let i = 0; i < 5; i++) expect(await c.call('Name', null)).toBe('b');
  expect(failedDials).toBe(1); // the selector's choice was passed over without dialling
  await sleep(350);
  expect(await c.call('Name', null)).toBe('b');
  expect(failedDials).toBe(2); // tried again once the time was up
});
