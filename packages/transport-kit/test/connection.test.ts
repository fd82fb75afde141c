// The life cycle every transport inherits from AbstractConnection, driven by hand through a
// connection whose "network" is the test: what goes out is recorded, what comes in and how
// the transport ends are called by the test.
import { ConfigError, ConnectionError, DRAIN_NOTICE_BYTES, type ConnectionHandler } from '@rpcx/core';
import { AbstractConnection, EAGER_FLUSH_BYTES, EARLY_SEND_BYTES, FULL_READ_BYTES, JOIN_LIMIT } from '../src/index.js';

const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

class ManualConnection extends AbstractConnection {
  readonly sent: Uint8Array[][] = [];
  readonly calls: string[] = [];
  buffered = 0;
  /** Whether the network takes what `sendFrames` gives at once, or keeps it buffered. */
  takesAtOnce = true;

  constructor(closeTimeoutMs = 0, flush?: 'callback' | 'turn', earlySend?: boolean) {
    super({ network: 'manual', remoteAddress: 'there', localAddress: 'here', closeTimeoutMs, flush, earlySend });
  }
  protected override get bufferedBytes(): number {
    return this.buffered;
  }
  protected override sendFrames(frames: Uint8Array[], bytes: number): void {
    this.sent.push(frames);
    if (!this.takesAtOnce) this.buffered += bytes;
  }
  protected override endOutput(): void {
    this.calls.push('endOutput');
  }
  protected override abort(error: Error | undefined): void {
    this.calls.push(`abort:${error?.message ?? ''}`);
  }
  protected override closeTimedOut(): void {
    this.calls.push('closeTimedOut');
    this.ended();
  }
  protected override startInput(): void {
    this.calls.push('startInput');
  }
  protected override stopInput(): void {
    this.calls.push('stopInput');
  }
  // what the transport would call
  arrive(text: string): void {
    this.received(Buffer.from(text));
  }
  networkTookBytes(): void {
    this.checkDrain();
  }
  transportFailed(error: Error): void {
    this.failed(error);
  }
  transportEnded(error?: Error): void {
    this.ended(error);
  }
}

/** A handler that records what it is told, and whether it was told inside setHandler. */
function record(connection: ManualConnection) {
  const seen = { data: [] as string[], closes: [] as (Error | undefined)[], drains: [] as number[], insideSetHandler: false };
  let inside = true;
  const handler: ConnectionHandler = {
    onData: (chunk) => {
      seen.insideSetHandler ||= inside;
      seen.data.push(Buffer.from(chunk).toString());
    },
    onClose: (error) => {
      seen.insideSetHandler ||= inside;
      seen.closes.push(error);
    },
    onDrain: () => void seen.drains.push(connection.pendingBytes),
  };
  connection.setHandler(handler);
  inside = false;
  return seen;
}

test('bytes before the handler are held and delivered after setHandler, in order, never inside it', async () => {
  const c = new ManualConnection();
  c.arrive('a');
  c.arrive('b');
  const seen = record(c);
  expect(seen.data).toEqual([]);
  c.arrive('c');
  await tick();
  expect(seen.data).toEqual(['a', 'b', 'c']);
  expect(seen.insideSetHandler).toBe(false);
  expect(c.calls).toEqual(['startInput']);
  expect(() => c.setHandler({ onData() {}, onClose() {} })).toThrow(ConfigError);
});

test('the writes of one turn reach the transport together, once', async () => {
  const c = new ManualConnection();
  record(c);
  // Each in a buffer of its own: frames side by side in one buffer would be joined.
  c.write(Uint8Array.from(Buffer.from('1')));
  c.write(Uint8Array.from(Buffer.from('22')));
  expect(c.pendingBytes).toBe(3);
  expect(c.sent).toEqual([]);
  await tick();
  expect(c.sent.map((frames) => frames.map((f) => Buffer.from(f).toString()))).toEqual([['1', '22']]);
  expect(c.pendingBytes).toBe(0);
});

test('frames side by side in one buffer reach the transport as one view, nothing copied; others as they are', async () => {
  const c = new ManualConnection();
  record(c);
  const slab = Buffer.from('aabbbcdd-ee');
  c.write(slab.subarray(0, 2));
  c.write(slab.subarray(2, 5));
  c.write(Uint8Array.from(Buffer.from('!!')));
  c.write(slab.subarray(5, 6));
  c.write(slab.subarray(6, 8));
  // Same buffer, not adjacent: a gap of one byte.
  c.write(slab.subarray(9, 11));
  await tick();
  const [frames] = c.sent;
  expect(frames.map((f) => Buffer.from(f).toString())).toEqual(['aabbb', '!!', 'cdd', 'ee']);
  expect(frames[0].buffer).toBe(slab.buffer);
  // The joined view is the same memory: a change to the buffer shows through it.
  slab[0] = 'z'.charCodeAt(0);
  expect(Buffer.from(frames[0]).toString()).toBe('zabbb');
});

test('the first EARLY_SEND_BYTES of a batch go out inside write, the rest after the callback', async () => {
  const c = new ManualConnection();
  record(c);
  c.write(new Uint8Array(EARLY_SEND_BYTES / 2));
  expect(c.sent).toEqual([]);
  c.write(new Uint8Array(EARLY_SEND_BYTES / 2));
  // The peer can start on these while the rest of the batch is written.
  expect(c.sent.map((frames) => frames.map((f) => f.length))).toEqual([[EARLY_SEND_BYTES / 2, EARLY_SEND_BYTES / 2]]);
  c.write(new Uint8Array(EARLY_SEND_BYTES));
  c.write(new Uint8Array(EARLY_SEND_BYTES));
  expect(c.sent).toHaveLength(1);
  expect(c.pendingBytes).toBe(2 * EARLY_SEND_BYTES);
  await tick();
  expect(c.sent.map((frames) => frames.map((f) => f.length))).toEqual([
    [EARLY_SEND_BYTES / 2, EARLY_SEND_BYTES / 2],
    [EARLY_SEND_BYTES, EARLY_SEND_BYTES],
  ]);
  expect(c.pendingBytes).toBe(0);
});

test('after a read of FULL_READ_BYTES or more a batch goes out whole after the callback; a smaller read sends early again', async () => {
  const c = new ManualConnection();
  record(c);
  const batch = () => [1, 2, 3].forEach(() => c.write(new Uint8Array(EARLY_SEND_BYTES)));
  c.arrive('x'.repeat(FULL_READ_BYTES));
  batch();
  expect(c.sent).toEqual([]);
  await tick();
  expect(c.sent.map((frames) => frames.length)).toEqual([3]);
  c.arrive('x'.repeat(FULL_READ_BYTES - 1));
  batch();
  expect(c.sent.map((frames) => frames.length)).toEqual([3, 2]);
  await tick();
  expect(c.sent.map((frames) => frames.length)).toEqual([3, 2, 1]);
});

test('with earlySend: false a batch goes out whole after the callback', async () => {
  const c = new ManualConnection(0, undefined, false);
  record(c);
  const batch = () => [1, 2, 3].forEach(() => c.write(new Uint8Array(EARLY_SEND_BYTES)));
  batch();
  expect(c.sent).toEqual([]);
  await tick();
  // Nor after a small read.
  c.arrive('small read');
  batch();
  expect(c.sent.map((frames) => frames.length)).toEqual([3]);
  await tick();
  expect(c.sent.map((frames) => frames.length)).toEqual([3, 3]);
});

test('side-by-side frames are joined only up to JOIN_LIMIT: a big buffer written in slices keeps its slices', async () => {
  const c = new ManualConnection();
  record(c);
  const big = Buffer.alloc(4 * JOIN_LIMIT, 1);
  const quarter = JOIN_LIMIT / 2;
  // Eight slices of half the limit: joined two by two, never more.
  for (let at = 0; at < big.length; at += quarter) c.write(big.subarray(at, at + quarter));
  await tick();
  // The first two went out early (EARLY_SEND_BYTES), the other six after the callback.
  const frames = c.sent.flat();
  expect(c.sent).toHaveLength(2);
  expect(frames.map((f) => f.length)).toEqual(Array(4).fill(JOIN_LIMIT));
  expect(frames.map((f) => f.byteOffset - big.byteOffset)).toEqual([0, 1, 2, 3].map((n) => n * JOIN_LIMIT));
});

describe("flush: 'turn' (a server's accepted connections)", () => {
  const sentText = (c: ManualConnection) => c.sent.map((frames) => frames.map((f) => Buffer.from(f).toString()));

  test('the writes of a callback go out at the end of the event-loop turn, not right after the callback', async () => {
    const c = new ManualConnection(0, 'turn');
    record(c);
    c.write(Uint8Array.from(Buffer.from('a')));
    c.write(Uint8Array.from(Buffer.from('b')));
    await tick();
    expect(c.sent).toEqual([]);
    expect(c.pendingBytes).toBe(2);
    await turn();
    expect(sentText(c)).toEqual([['a', 'b']]);
    expect(c.pendingBytes).toBe(0);
  });

  test('once EAGER_FLUSH_BYTES are queued they go out right after the callback', async () => {
    const c = new ManualConnection(0, 'turn');
    record(c);
    // After a full read, so that nothing goes out early (EARLY_SEND_BYTES).
    c.arrive('x'.repeat(FULL_READ_BYTES));
    c.write(new Uint8Array(EAGER_FLUSH_BYTES - 1));
    c.write(new Uint8Array(1));
    expect(c.sent).toEqual([]);
    await tick();
    expect(c.sent.map((frames) => frames.map((f) => f.length))).toEqual([[EAGER_FLUSH_BYTES - 1, 1]]);
    // What is written after that waits for the end of the turn again.
    c.write(Uint8Array.from(Buffer.from('later')));
    await tick();
    expect(c.sent).toHaveLength(1);
    await turn();
    expect(sentText(c)[1]).toEqual(['later']);
  });

  test('writes still held go out before the same connection hands on its next data', async () => {
    const c = new ManualConnection(0, 'turn');
    const order: string[] = [];
    c.setHandler({
      onData: (chunk) => order.push(`data ${Buffer.from(chunk).toString()} (sent ${c.sent.length})`),
      onClose: () => {},
    });
    c.write(Uint8Array.from(Buffer.from('reply')));
    c.arrive('next');
    expect(order).toEqual(['data next (sent 1)']);
    expect(sentText(c)).toEqual([['reply']]);
    await turn();
    expect(c.sent).toHaveLength(1);
  });
});

test('pauseReading holds what arrives, resumeReading delivers it later, and they reach the transport', async () => {
  const c = new ManualConnection();
  const seen = record(c);
  c.pauseReading();
  c.arrive('held');
  await tick();
  expect(seen.data).toEqual([]);
  c.resumeReading();
  expect(seen.data).toEqual([]);
  await tick();
  expect(seen.data).toEqual(['held']);
  expect(c.calls).toEqual(['startInput', 'stopInput', 'startInput']);
});

test('onDrain is owed once pendingBytes reaches 64 KiB and reported when the network has taken it below', async () => {
  const c = new ManualConnection();
  c.takesAtOnce = false;
  const seen = record(c);
  c.write(Buffer.alloc(DRAIN_NOTICE_BYTES));
  await tick();
  c.buffered = DRAIN_NOTICE_BYTES;
  c.networkTookBytes();
  expect(seen.drains).toEqual([]);
  c.buffered = 10;
  c.networkTookBytes();
  c.networkTookBytes();
  expect(seen.drains).toEqual([10]);
  // under the mark nothing is owed
  c.write(Buffer.alloc(100));
  await tick();
  c.buffered = 0;
  c.networkTookBytes();
  expect(seen.drains).toEqual([10]);
});

test('onDrain owed for bytes the network took at once is reported right after they were sent', async () => {
  // Node's socket emits no 'drain' for a write it completed at once, however large.
  const c = new ManualConnection();
  const seen = record(c);
  c.write(Buffer.alloc(4 * DRAIN_NOTICE_BYTES));
  expect(seen.drains).toEqual([]);
  await tick();
  expect(seen.drains).toEqual([0]);
});

test('close(): queued writes, then endOutput; settles once onClose has been reported; reads to the end', async () => {
  const c = new ManualConnection();
  const seen = record(c);
  c.write(Buffer.from('last'));
  const closing = c.close();
  expect(c.close()).toBe(closing);
  expect(c.closed).toBe(true);
  expect(c.sent.length).toBe(1);
  expect(c.calls).toEqual(['startInput', 'startInput', 'endOutput']);
  c.write(Buffer.from('dropped'));
  c.arrive('dropped too');
  let settled = false;
  void closing.then(() => (settled = true));
  await turn();
  expect(settled).toBe(false);
  c.transportEnded(new ConnectionError('reset during close'));
  await closing;
  // The owner chose to close: an error on the way is not reported.
  expect(seen.closes).toEqual([undefined]);
  expect(seen.data).toEqual([]);
  expect(c.sent.length).toBe(1);
});

test('close() gives the transport closeTimeoutMs, then calls closeTimedOut', async () => {
  const c = new ManualConnection(50);
  const seen = record(c);
  const started = Date.now();
  await c.close();
  expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  expect(c.calls).toContain('closeTimedOut');
  expect(seen.closes).toEqual([undefined]);
});

test('destroy(error) aborts the transport with it and reports it; later calls change nothing', async () => {
  const c = new ManualConnection();
  const seen = record(c);
  const error = new Error('boom');
  c.destroy(error);
  c.destroy(new Error('again'));
  expect(c.calls).toEqual(['startInput', 'abort:boom']);
  c.transportFailed(new ConnectionError('socket error afterwards'));
  c.transportEnded();
  await c.close();
  expect(seen.closes).toEqual([error]);
});

test('the first transport error is reported, once, after the data that came before it', async () => {
  const c = new ManualConnection();
  c.arrive('before');
  const first = new ConnectionError('first');
  c.transportFailed(first);
  c.transportFailed(new ConnectionError('second'));
  c.transportEnded();
  const seen = record(c);
  await tick();
  expect(seen.data).toEqual(['before']);
  expect(seen.closes).toEqual([first]);
  c.transportEnded();
  await turn();
  expect(seen.closes).toEqual([first]);
});

test('a connection that ends while paused drops what it held and still reports the close', async () => {
  const c = new ManualConnection();
  const seen = record(c);
  c.pauseReading();
  c.arrive('never delivered');
  c.transportEnded();
  await tick();
  expect(seen.data).toEqual([]);
  expect(seen.closes).toEqual([undefined]);
});

test('a handler that throws destroys the connection with that error', async () => {
  const c = new ManualConnection();
  const error = new Error('handler failed');
  const closes: (Error | undefined)[] = [];
  c.setHandler({
    onData: () => {
      throw error;
    },
    onClose: (e) => void closes.push(e),
  });
  c.arrive('x');
  expect(c.calls).toEqual(['startInput', 'abort:handler failed']);
  c.transportEnded();
  await tick();
  expect(closes).toEqual([error]);
});
