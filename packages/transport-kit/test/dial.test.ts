// dialWithDeadline: settles once, whichever of the connection, its failure, the deadline and
// the caller's signal comes first, and cleans up after the others.
import { AbortError, ConfigError, DialError, DialTimeoutError, type Connection } from '@rpcx/core';
import { dialWithDeadline } from '../src/index.js';

const target = { network: 'tcp', address: '127.0.0.1:1', connectTimeoutMs: 1000 };

function fakeConnection(): Connection & { destroyed: boolean } {
  return {
    network: 'tcp',
    remoteAddress: '',
    localAddress: '',
    pendingBytes: 0,
    closed: false,
    destroyed: false,
    setHandler() {},
    write() {},
    pauseReading() {},
    resumeReading() {},
    close: async () => {},
    destroy() {
      this.destroyed = true;
    },
  };
}

test('resolves with the connection made in time', async () => {
  const connection = fakeConnection();
  expect(await dialWithDeadline(target, {}, async () => connection)).toBe(connection);
});

test('rejects with Go\'s "i/o timeout" after timeoutMs, tells connect to give up, and destroys a late connection', async () => {
  let givenUp: AbortSignal | undefined;
  let deliver!: (c: Connection) => void;
  const started = Date.now();
  const dialing = dialWithDeadline(target, { timeoutMs: 50 }, (signal) => {
    givenUp = signal;
    return new Promise<Connection>((resolve) => (deliver = resolve));
  });
  const error = await dialing.catch((e: unknown) => e);
  expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  expect(error).toBeInstanceOf(DialTimeoutError);
  expect((error as Error).message).toBe('dial tcp 127.0.0.1:1: i/o timeout');
  expect(givenUp?.aborted).toBe(true);
  const late = fakeConnection();
  deliver(late);
  await new Promise((r) => setImmediate(r));
  expect(late.destroyed).toBe(true);
});

test("without the dial's timeoutMs the transport's connectTimeoutMs is the limit; the dial's own overrides it", async () => {
  const never = () => new Promise<Connection>(() => {});
  const started = Date.now();
  await expect(dialWithDeadline({ ...target, connectTimeoutMs: 60 }, {}, never)).rejects.toBeInstanceOf(DialTimeoutError);
  expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  const connection = fakeConnection();
  const late = () => new Promise<Connection>((resolve) => setTimeout(() => resolve(connection), 120));
  expect(await dialWithDeadline({ ...target, connectTimeoutMs: 60 }, { timeoutMs: 5000 }, late)).toBe(connection);
});

test('timeoutMs 0 waits as long as it takes', async () => {
  const connection = fakeConnection();
  const made = dialWithDeadline(target, { timeoutMs: 0 }, () => new Promise<Connection>((resolve) => setTimeout(() => resolve(connection), 60)));
  expect(await made).toBe(connection);
});

test("the caller's signal: already aborted rejects at once without connecting; aborted later rejects with its reason", async () => {
  const reason = new Error('stop');
  let called = false;
  const aborted = AbortSignal.abort(reason);
  const first = await dialWithDeadline(target, { signal: aborted }, async () => {
    called = true;
    return fakeConnection();
  }).catch((e: unknown) => e);
  expect(first).toBeInstanceOf(AbortError);
  expect((first as Error).cause).toBe(reason);
  expect(called).toBe(false);

  const controller = new AbortController();
  let givenUp: AbortSignal | undefined;
  const dialing = dialWithDeadline(target, { signal: controller.signal }, (signal) => {
    givenUp = signal;
    return new Promise<Connection>(() => {});
  });
  controller.abort(reason);
  const second = await dialing.catch((e: unknown) => e);
  expect(second).toBeInstanceOf(AbortError);
  expect((second as Error).cause).toBe(reason);
  expect(givenUp?.aborted).toBe(true);
});

test("connect's own error is the dial's, thrown or rejected, and a later one is ignored", async () => {
  const refused = new DialError('dial tcp 127.0.0.1:1: connect: connection refused');
  await expect(dialWithDeadline(target, {}, () => Promise.reject(refused))).rejects.toBe(refused);
  const bad = new ConfigError('bad address');
  await expect(
    dialWithDeadline(target, {}, () => {
      throw bad;
    }),
  ).rejects.toBe(bad);
});
