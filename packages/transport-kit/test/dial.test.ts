// dialWithDeadline: settles once, whichever of the connection, its failure, the deadline and
// the caller's signal comes first, and cleans up after the others.
import { AbortError, ConfigError, DialError, DialTimeoutError, type Connection } from '@rpcx/core';
import { dialWithDeadline } from '../src/index.js';

const target = { network: 'tcp', address: '127.0.0.1:1' };

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
  expect(await dialWithDeadline({ ...target, timeoutMs: 1000 }, async () => connection)).toBe(connection);
});

test('rejects with Go\'s "i/o timeout" after timeoutMs, tells connect to give up, and destroys a late connection', async () => {
  let givenUp: AbortSignal | undefined;
  let deliver!: (c: Connection) => void;
  const started = Date.now();
  const dialing = dialWithDeadline({ ...target, timeoutMs: 50 }, (signal) => {
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

test('timeoutMs 0 waits as long as it takes', async () => {
  const connection = fakeConnection();
  const made = dialWithDeadline({ ...target, timeoutMs: 0 }, () => new Promise<Connection>((resolve) => setTimeout(() => resolve(connection), 60)));
  expect(await made).toBe(connection);
});

test("the caller's signal: already aborted rejects at once without connecting; aborted later rejects with its reason", async () => {
  const reason = new Error('stop');
  let called = false;
  const aborted = AbortSignal.abort(reason);
  const first = await dialWithDeadline({ ...target, timeoutMs: 1000, signal: aborted }, async () => {
    called = true;
    return fakeConnection();
  }).catch((e: unknown) => e);
  expect(first).toBeInstanceOf(AbortError);
  expect((first as Error).cause).toBe(reason);
  expect(called).toBe(false);

  const controller = new AbortController();
  let givenUp: AbortSignal | undefined;
  const dialing = dialWithDeadline({ ...target, timeoutMs: 1000, signal: controller.signal }, (signal) => {
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
  await expect(dialWithDeadline({ ...target, timeoutMs: 1000 }, () => Promise.reject(refused))).rejects.toBe(refused);
  const bad = new ConfigError('bad address');
  await expect(
    dialWithDeadline({ ...target, timeoutMs: 1000 }, () => {
      throw bad;
    }),
  ).rejects.toBe(bad);
});
