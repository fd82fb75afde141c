/**
 * The transport compliance suite: what every @rpcx `Transport` must do, checked over real
 * listeners and connections. A transport package runs it in a few lines:
 *
 * ```ts
 * transportCompliance({
 *   name: 'tcp 127.0.0.1',
 *   transport: () => tcpTransport(),
 *   network: 'tcp',
 *   listenAddress: () => '127.0.0.1:0',
 *   refusedAddress: async () => `127.0.0.1:${await unusedPort()}`,
 * });
 * ```
 *
 * Assertions use `node:assert/strict`, so the suite runs under jest, vitest, mocha or
 * `node:test` (pass `runner`); it needs only `describe` and `test`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, DRAIN_NOTICE_BYTES, ErrorCode, type Connection, type Listener, type Transport } from '@rpcx/core';
import { globalRunner, type TestRunner } from '@rpcx/core/testing';
import { Recorder, sleep, waitUntil } from './recorder.js';
import { EARLY_SEND_BYTES } from '../connection.js';

export interface TransportComplianceSetup {
  /** Shown in the describe block, e.g. `tcp 127.0.0.1`. */
  name: string;
  /**
   * A new transport, configured for both ends (TLS for the server and the client, …): the
   * suite listens and dials with it.
   */
  transport: () => Transport;
  network: string;
  /** A fresh address to listen on (port 0 or a new socket path). */
  listenAddress: () => string | Promise<string>;
  /** The address a client dials to reach `listener`. Default: `listener.address`. */
  dialAddress?: (listener: Listener) => string;
  /** An address where a dial is refused. */
  refusedAddress: () => string | Promise<string>;
  /**
   * An address where a dial gets stuck (e.g. a TLS dial to a server that never answers the
   * handshake). Enables the dial-timeout and mid-dial abort tests.
   */
  stalledAddress?: () => Promise<{ address: string; close(): Promise<void> }>;
  /**
   * The dialling end cannot see its own address (a browser WebSocket): its `localAddress`
   * is '' and is not compared with what the server sees. Default false.
   */
  dialerLocalAddressUnknown?: boolean;
  /**
   * Why a peer's `pauseReading()` does not hold the other end's writer back on this transport,
   * when it does not (a browser WebSocket cannot stop reading the network; a library that
   * buffers ahead). The back-pressure test then checks only delivery and `onDrain`.
   */
  pauseDoesNotHoldWriter?: string;
  /**
   * How much the back-pressure test writes to a paused peer: more than the network and the
   * OS buffer between the two ends. Default 32 MiB.
   */
  backpressureBytes?: number;
  /** Timeout of each test, in ms. Default 30000. */
  testTimeoutMs?: number;
  /** Test framework functions. Default: the globals `describe` and `test` (jest, vitest). */
  runner?: TestRunner;
}

/** Listeners may say how many connections they hold and when they are all gone; the leak test uses that. */
interface InspectableListener extends Listener {
  connectionCount?(): Promise<number>;
  drained?: Promise<void>;
}

/** What one test opened, closed when it ends (pass or fail). */
class Scope {
  readonly #cleanups: (() => unknown)[] = [];

  constructor(readonly setup: TransportComplianceSetup) {}

  onDispose(fn: () => unknown): void {
    this.#cleanups.push(fn);
  }

  async dispose(): Promise<void> {
    for (const fn of this.#cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
  }

  track(connection: Connection): Connection {
    this.onDispose(() => connection.destroy());
    return connection;
  }

  async listen(onConnection: (c: Connection) => void = () => {}) {
    const transport = this.setup.transport();
    const listener = (await transport.listen(this.setup.network, await this.setup.listenAddress(), onConnection)) as InspectableListener;
    this.onDispose(() => listener.close());
    const dialAddress = this.setup.dialAddress ? this.setup.dialAddress(listener) : listener.address;
    return { transport, listener, dialAddress };
  }

  /** A listener and one connection, both ends recorded. */
  async pair() {
    let accepted!: (r: Recorder) => void;
    const serverSide = new Promise<Recorder>((resolve) => (accepted = resolve));
    const { transport, listener, dialAddress } = await this.listen((c) => accepted(new Recorder(this.track(c))));
    const client = new Recorder(this.track(await transport.dial(this.setup.network, dialAddress)));
    const server = await serverSide;
    return { transport, listener, dialAddress, client, server };
  }
}

const errorOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

/** Declare the compliance tests for one transport (one `describe` block). */
export function transportCompliance(setup: TransportComplianceSetup): void {
  const runner = setup.runner ?? globalRunner('transportCompliance');
  const timeoutMs = setup.testTimeoutMs ?? 30_000;
  const it = (name: string, body: (scope: Scope) => Promise<void>) =>
    runner.test(
      name,
      async () => {
        const scope = new Scope(setup);
        try {
          await body(scope);
        } finally {
          await scope.dispose();
        }
      },
      timeoutMs,
    );

  runner.describe(`transport compliance: ${setup.name}`, () => {
    it('listens and reports the bound address', async (s) => {
      const { listener } = await s.listen();
      assert.equal(listener.network, setup.network);
      assert.notEqual(listener.address, '');
      assert.doesNotMatch(listener.address, /:0$/);
    });

    it('exchanges bytes both ways and reports addresses', async (s) => {
      const { listener, dialAddress, client, server } = await s.pair();
      client.connection.write(Buffer.from('hello'));
      await server.waitFor(5);
      server.connection.write(Buffer.from('world!'));
      await client.waitFor(6);
      assert.equal(server.data().toString(), 'hello');
      assert.equal(client.data().toString(), 'world!');
      assert.equal(client.connection.network, setup.network);
      assert.equal(server.connection.network, setup.network);
      assert.equal(client.connection.remoteAddress, dialAddress);
      assert.equal(server.connection.localAddress, listener.address);
      if (setup.dialerLocalAddressUnknown) assert.equal(client.connection.localAddress, '');
      else assert.equal(server.connection.remoteAddress, client.connection.localAddress);
      assert.equal(client.connection.closed, false);
      assert.equal(server.connection.closed, false);
    });

    it('keeps bytes that arrive before the handler is set, and never calls the handler from inside setHandler', async (s) => {
      let accepted!: (c: Connection) => void;
      const serverSide = new Promise<Connection>((resolve) => (accepted = resolve));
      const { transport, dialAddress } = await s.listen((c) => accepted(s.track(c)));
      const client = s.track(await transport.dial(setup.network, dialAddress));
      client.write(Buffer.from('early'));
      const connection = await serverSide;
      await sleep(50);
      let insideSetHandler = true;
      let calledInside = false;
      const server = new Recorder(connection, () => (calledInside ||= insideSetHandler));
      insideSetHandler = false;
      await server.waitFor(5);
      assert.equal(server.data().toString(), 'early');
      assert.equal(calledInside, false);
    });

    it('a second setHandler throws a ConfigError', async (s) => {
      const { client } = await s.pair();
      assert.throws(() => client.connection.setHandler({ onData() {}, onClose() {} }), ConfigError);
    });

    it('carries 8 MiB payloads intact in both directions at once', async (s) => {
      const { client, server } = await s.pair();
      const up = randomBytes(8 << 20);
      const down = randomBytes(8 << 20);
      client.connection.write(up);
      server.connection.write(down);
      assert.ok(client.connection.pendingBytes >= up.length, 'written bytes count as pending');
      await Promise.all([server.waitFor(up.length), client.waitFor(down.length)]);
      assert.ok(server.data().equals(up), 'client → server intact');
      assert.ok(client.data().equals(down), 'server → client intact');
      await waitUntil(() => client.connection.pendingBytes === 0, 5000, 'the client has nothing pending');
    });

    it("never hands a batch to the peer's handler inside write", async (s) => {
      const { client, server } = await s.pair();
      // Big enough for an early send (EARLY_SEND_BYTES): it must still reach the peer later.
      for (let i = 0; i < 8; i++) client.connection.write(Buffer.alloc(4096, i));
      assert.equal(server.received, 0, 'the peer had data before write returned');
      await server.waitFor(8 * 4096);
    });

    it('delivers many small writes of one turn intact and in order', async (s) => {
      const { client, server } = await s.pair();
      const frames: Buffer[] = [];
      for (let i = 0; i < 20_000; i++) {
        const frame = Buffer.alloc(6 + (i % 300), i & 0xff);
        frame.writeUInt32BE(i, 0);
        frame.writeUInt16BE(frame.length - 6, 4);
        frames.push(frame);
      }
      const total = frames.reduce((n, f) => n + f.length, 0);
      const largest = frames.reduce((n, f) => Math.max(n, f.length), 0);
      for (const frame of frames) client.connection.write(frame);
      // At most the batch's early send has left (the first EARLY_SEND_BYTES and the frame that
      // crossed the mark): the rest of this turn is still counted as pending. A transport that
      // still holds the early send may count its own framing of it too (a WebSocket header).
      const pending = client.connection.pendingBytes;
      assert.ok(pending <= total + 1024 && pending >= total - (EARLY_SEND_BYTES + largest), `pendingBytes ${pending} of ${total}`);
      await server.waitFor(total);
      const data = server.data();
      let offset = 0;
      let firstBad = -1;
      for (let i = 0; i < frames.length && firstBad < 0; i++) {
        const length = data.readUInt16BE(offset + 4);
        if (data.readUInt32BE(offset) !== i || !data.subarray(offset, offset + 6 + length).equals(frames[i])) firstBad = i;
        offset += 6 + length;
      }
      assert.equal(firstBad, -1, 'the first frame out of order or damaged');
      assert.equal(offset, data.length);
    });

    it('keeps order when small and large frames share a turn', async (s) => {
      const { client, server } = await s.pair();
      const parts = [Buffer.from('a'), randomBytes(100_000), Buffer.from('bc'), randomBytes(30_000), Buffer.from('d')];
      for (const part of parts) client.connection.write(part);
      const expected = Buffer.concat(parts);
      await server.waitFor(expected.length);
      assert.ok(server.data().equals(expected));
    });

    it('client close() fires onClose once, without error, on both ends', async (s) => {
      const { client, server } = await s.pair();
      await client.connection.close();
      assert.equal(client.connection.closed, true);
      assert.equal(await server.closed, undefined);
      assert.equal(server.connection.closed, true);
      await sleep(20);
      assert.deepEqual(client.closes, [undefined]);
      assert.deepEqual(server.closes, [undefined]);
    });

    it('server close() fires onClose once, without error, on both ends', async (s) => {
      const { client, server } = await s.pair();
      await server.connection.close();
      assert.equal(await client.closed, undefined);
      await sleep(20);
      assert.deepEqual(client.closes, [undefined]);
      assert.deepEqual(server.closes, [undefined]);
    });

    it('close() sends queued writes first; writes after it are dropped', async (s) => {
      const { client, server } = await s.pair();
      // One write: a second would send both at once (EARLY_SEND_BYTES), leaving nothing queued.
      const big = randomBytes(1 << 20);
      client.connection.write(big);
      const closing = client.connection.close();
      client.connection.write(Buffer.from('dropped'));
      await closing;
      assert.equal(await server.closed, undefined);
      assert.ok(server.data().equals(big));
    });

    it('close() twice and destroy() afterwards still report one close', async (s) => {
      const { client, server } = await s.pair();
      const first = client.connection.close();
      const second = client.connection.close();
      assert.equal(first, second);
      await first;
      client.connection.destroy(new Error('late'));
      await client.connection.close();
      await server.closed;
      await sleep(20);
      assert.deepEqual(client.closes, [undefined]);
      assert.equal(server.closes.length, 1);
    });

    it('destroy(error) reports that error locally and closes the peer', async (s) => {
      const { client, server } = await s.pair();
      const error = new Error('boom');
      client.connection.destroy(error);
      assert.equal(client.connection.closed, true);
      assert.equal(await client.closed, error);
      await server.closed;
      await sleep(20);
      assert.equal(client.closes.length, 1);
      assert.equal(server.closes.length, 1);
    });

    it('pauseReading() stops delivery, writes go on and close() still completes', async (s) => {
      const { client, server } = await s.pair();
      server.connection.pauseReading();
      client.connection.write(Buffer.from('held'));
      server.connection.write(Buffer.from('sent'));
      await client.waitFor(4);
      await sleep(50);
      assert.equal(server.received, 0);
      assert.equal(client.data().toString(), 'sent');
      await server.connection.close();
      assert.equal(await client.closed, undefined);
      assert.deepEqual(server.closes, [undefined]);
    });

    it('pauseReading() holds what arrives until resumeReading(), then delivers it in order', async (s) => {
      const { client, server } = await s.pair();
      server.connection.pauseReading();
      const sent = [Buffer.from('one '), randomBytes(200_000), Buffer.from(' two')];
      for (const part of sent) client.connection.write(part);
      await sleep(100);
      assert.equal(server.received, 0);
      server.connection.resumeReading();
      const expected = Buffer.concat(sent);
      await server.waitFor(expected.length);
      assert.ok(server.data().equals(expected));
      // and reading goes on as before
      client.connection.write(Buffer.from('more'));
      await server.waitFor(expected.length + 4);
    });

    const holdsWriter = setup.pauseDoesNotHoldWriter
      ? `(the writer is not held back: ${setup.pauseDoesNotHoldWriter})`
      : 'holds the writer back';
    it(`a peer that pauses ${holdsWriter}; onDrain reports until pendingBytes is under 64 KiB`, async (s) => {
      const { client, server } = await s.pair();
      // The client speaks first (a QUIC server has no stream before that).
      client.connection.write(Buffer.from('x'));
      await server.waitFor(1);
      client.connection.pauseReading();
      const size = setup.backpressureBytes ?? 32 << 20;
      const down = randomBytes(size);
      for (let at = 0; at < size; at += 1 << 20) server.connection.write(down.subarray(at, at + (1 << 20)));
      await sleep(300);
      if (!setup.pauseDoesNotHoldWriter) {
        // Nothing was delivered, and the network cannot hold it all: the writer keeps the rest.
        assert.equal(client.received, 0);
        assert.ok(server.connection.pendingBytes > 0, 'the writer keeps what the paused peer does not take');
      }
      client.connection.resumeReading();
      await client.waitFor(size);
      assert.ok(client.data().equals(down));
      await waitUntil(() => server.connection.pendingBytes === 0, 5000, 'the writer has sent everything');
      assert.ok(server.drains.length > 0, 'onDrain was called');
      assert.ok(server.drains[server.drains.length - 1] < DRAIN_NOTICE_BYTES, `the last onDrain saw ${server.drains.at(-1)} pending`);
    });

    it('a handler that throws closes its connection with that error', async (s) => {
      const { client, server } = await s.pair();
      const error = new Error('handler failed');
      server.onDataHook = () => {
        throw error;
      };
      client.connection.write(Buffer.from('x'));
      assert.equal(await server.closed, error);
      await client.closed;
      assert.equal(client.closes.length, 1);
    });

    it('a refused dial rejects with DialError RPCX_ERR_DIAL', async () => {
      const address = await setup.refusedAddress();
      const error = (await errorOf(setup.transport().dial(setup.network, address))) as Error;
      assert.ok(error, 'the dial failed');
      assert.equal(error.name, 'DialError');
      assert.equal((error as { code?: string }).code, ErrorCode.Dial);
      assert.ok(error.message.includes(address), `the message names ${address}: ${error.message}`);
      assert.notEqual(error.cause, undefined);
    });

    it('a dial with an aborted signal rejects with AbortError', async (s) => {
      const { transport, dialAddress } = await s.listen();
      const controller = new AbortController();
      const reason = new Error('stop');
      controller.abort(reason);
      const error = (await errorOf(transport.dial(setup.network, dialAddress, { signal: controller.signal }))) as Error;
      assert.equal(error?.name, 'AbortError');
      assert.equal((error as { code?: string }).code, ErrorCode.Aborted);
      assert.equal(error.cause, reason);
    });

    it('listener close() stops accepting, leaves open connections, and nothing leaks', async (s) => {
      const { transport, listener, dialAddress, client, server } = await s.pair();
      await listener.close();
      const refused = (await errorOf(transport.dial(setup.network, dialAddress))) as { code?: string } | undefined;
      assert.equal(refused?.code, ErrorCode.Dial);
      client.connection.write(Buffer.from('still'));
      await server.waitFor(5);
      if (listener.connectionCount) assert.equal(await listener.connectionCount(), 1);
      await client.connection.close();
      await server.closed;
      if (listener.drained) await listener.drained;
      if (listener.connectionCount) assert.equal(await listener.connectionCount(), 0);
    });

    if (setup.stalledAddress) {
      const stalled = setup.stalledAddress;
      it("a dial that does not complete in the dial's timeoutMs rejects with DialTimeoutError RPCX_ERR_DIAL_TIMEOUT", async (s) => {
        const target = await stalled();
        s.onDispose(() => target.close());
        const started = Date.now();
        const error = (await errorOf(setup.transport().dial(setup.network, target.address, { timeoutMs: 200 }))) as Error;
        const elapsed = Date.now() - started;
        assert.equal(error?.name, 'DialTimeoutError');
        assert.equal((error as { code?: string }).code, ErrorCode.DialTimeout);
        assert.equal(error.message, `dial ${setup.network} ${target.address}: i/o timeout`);
        assert.ok(elapsed >= 190, `gave up after ${elapsed} ms`);
        assert.ok(elapsed < 2000, `gave up after ${elapsed} ms`);
      });

      it('an AbortSignal fired during the dial rejects with AbortError', async (s) => {
        const target = await stalled();
        s.onDispose(() => target.close());
        const controller = new AbortController();
        const dialing = errorOf(setup.transport().dial(setup.network, target.address, { timeoutMs: 5000, signal: controller.signal }));
        setTimeout(() => controller.abort(), 50);
        const error = (await dialing) as { name?: string; code?: string };
        assert.equal(error?.name, 'AbortError');
        assert.equal(error.code, ErrorCode.Aborted);
      });
    }
  });
}
