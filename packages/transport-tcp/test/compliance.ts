/**
 * A compliance suite for any @rpcx `Transport`: call `transportCompliance(setup)` inside a
 * test file and it declares one `describe` block of tests. Transports in other packages can
 * import it as it is; nothing here is TCP-specific.
 *
 * Listeners may expose `connectionCount()` and `drained` (as @rpcx/transport-tcp's do); the
 * leak test uses them when present.
 */
import { randomBytes } from 'node:crypto';
import { DRAIN_NOTICE_BYTES, type Connection, type DialOptions, type Listener, type ListenOptions, type Transport } from '@rpcx/core';

export interface TransportComplianceSetup {
  /** Shown in the describe block, e.g. `tcp 127.0.0.1`. */
  name: string;
  transport: () => Transport;
  network: string;
  /** A fresh address to listen on (port 0 or a new socket path). */
  listenAddress: () => string | Promise<string>;
  listenOptions?: ListenOptions;
  dialOptions?: DialOptions;
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
}

interface InspectableListener extends Listener {
  connectionCount?(): Promise<number>;
  drained?: Promise<void>;
}

/** Records what a connection's handler is told. */
export class Recorder {
  readonly chunks: Uint8Array[] = [];
  readonly closes: (Error | undefined)[] = [];
  received = 0;
  readonly closed: Promise<Error | undefined>;
  /** `pendingBytes` at each `onDrain`. */
  readonly drains: number[] = [];
  #waiters: { bytes: number; resolve: () => void }[] = [];
  #onClose!: (error: Error | undefined) => void;
  onDataHook: ((chunk: Uint8Array) => void) | undefined;

  constructor(readonly connection: Connection) {
    this.closed = new Promise((resolve) => (this.#onClose = resolve));
    connection.setHandler({
      onData: (chunk) => {
        this.onDataHook?.(chunk);
        this.chunks.push(chunk);
        this.received += chunk.length;
        this.#waiters = this.#waiters.filter((w) => (this.received >= w.bytes ? (w.resolve(), false) : true));
      },
      onClose: (error) => {
        this.closes.push(error);
        this.#onClose(error);
      },
      onDrain: () => void this.drains.push(connection.pendingBytes),
    });
  }

  /** Resolves once `bytes` bytes in total have arrived. */
  waitFor(bytes: number): Promise<void> {
    if (this.received >= bytes) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ bytes, resolve }));
  }

  data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function transportCompliance(setup: TransportComplianceSetup): void {
  describe(`transport compliance: ${setup.name}`, () => {
    let cleanups: (() => unknown)[] = [];
    afterEach(async () => {
      for (const fn of cleanups.reverse()) await fn();
      cleanups = [];
    });

    async function listen(onConnection: (c: Connection) => void = () => {}) {
      const transport = setup.transport();
      const listener = (await transport.listen(
        setup.network,
        await setup.listenAddress(),
        setup.listenOptions ?? {},
        onConnection,
      )) as InspectableListener;
      cleanups.push(() => listener.close());
      const dialAddress = setup.dialAddress ? setup.dialAddress(listener) : listener.address;
      return { transport, listener, dialAddress };
    }

    function track(connection: Connection): Connection {
      cleanups.push(() => connection.destroy());
      return connection;
    }

    /** A listener and one connection, both ends recorded. */
    async function pair() {
      let accepted!: (r: Recorder) => void;
      const serverSide = new Promise<Recorder>((resolve) => (accepted = resolve));
      const { transport, listener, dialAddress } = await listen((c) => accepted(new Recorder(track(c))));
      const client = new Recorder(track(await transport.dial(setup.network, dialAddress, setup.dialOptions ?? {})));
      const server = await serverSide;
      return { transport, listener, dialAddress, client, server };
    }

    it('listens and reports the bound address', async () => {
      const { listener } = await listen();
      expect(listener.network).toBe(setup.network);
      expect(listener.address).not.toBe('');
      expect(listener.address).not.toMatch(/:0$/);
    });

    it('exchanges bytes both ways and reports addresses', async () => {
      const { listener, dialAddress, client, server } = await pair();
      client.connection.write(Buffer.from('hello'));
      await server.waitFor(5);
      server.connection.write(Buffer.from('world!'));
      await client.waitFor(6);
      expect(server.data().toString()).toBe('hello');
      expect(client.data().toString()).toBe('world!');
      expect(client.connection.network).toBe(setup.network);
      expect(server.connection.network).toBe(setup.network);
      expect(client.connection.remoteAddress).toBe(dialAddress);
      expect(server.connection.localAddress).toBe(listener.address);
      if (setup.dialerLocalAddressUnknown) expect(client.connection.localAddress).toBe('');
      else expect(server.connection.remoteAddress).toBe(client.connection.localAddress);
      expect(client.connection.closed).toBe(false);
      expect(server.connection.closed).toBe(false);
    });

    it('keeps bytes that arrive before the handler is set', async () => {
      let accepted!: (c: Connection) => void;
      const serverSide = new Promise<Connection>((resolve) => (accepted = resolve));
      const { transport, dialAddress } = await listen((c) => accepted(track(c)));
      const client = track(await transport.dial(setup.network, dialAddress, setup.dialOptions ?? {}));
      client.write(Buffer.from('early'));
      const connection = await serverSide;
      await sleep(50);
      const server = new Recorder(connection);
      await server.waitFor(5);
      expect(server.data().toString()).toBe('early');
    });

    it('carries 8 MiB payloads intact in both directions at once', async () => {
      const { client, server } = await pair();
      const up = randomBytes(8 << 20);
      const down = randomBytes(8 << 20);
      client.connection.write(up);
      server.connection.write(down);
      expect(client.connection.pendingBytes).toBeGreaterThanOrEqual(up.length);
      await Promise.all([server.waitFor(up.length), client.waitFor(down.length)]);
      expect(server.data().equals(up)).toBe(true);
      expect(client.data().equals(down)).toBe(true);
      expect(client.connection.pendingBytes).toBe(0);
    });

    it('delivers many small writes of one turn intact and in order', async () => {
      const { client, server } = await pair();
      const frames: Buffer[] = [];
      for (let i = 0; i < 20_000; i++) {
        const frame = Buffer.alloc(6 + (i % 300), i & 0xff);
        frame.writeUInt32BE(i, 0);
        frame.writeUInt16BE(frame.length - 6, 4);
        frames.push(frame);
      }
      const total = frames.reduce((n, f) => n + f.length, 0);
      for (const frame of frames) client.connection.write(frame);
      // Nothing has left yet: everything of this turn is still counted as pending.
      expect(client.connection.pendingBytes).toBe(total);
      await server.waitFor(total);
      const data = server.data();
      let offset = 0;
      let firstBad = -1;
      for (let i = 0; i < frames.length && firstBad < 0; i++) {
        const length = data.readUInt16BE(offset + 4);
        if (data.readUInt32BE(offset) !== i || !data.subarray(offset, offset + 6 + length).equals(frames[i])) firstBad = i;
        offset += 6 + length;
      }
      expect(firstBad).toBe(-1);
      expect(offset).toBe(data.length);
    });

    it('keeps order when small and large frames share a turn', async () => {
      const { client, server } = await pair();
      const parts = [Buffer.from('a'), randomBytes(100_000), Buffer.from('bc'), randomBytes(30_000), Buffer.from('d')];
      for (const part of parts) client.connection.write(part);
      const expected = Buffer.concat(parts);
      await server.waitFor(expected.length);
      expect(server.data().equals(expected)).toBe(true);
    });

    it('client close() fires onClose once, without error, on both ends', async () => {
      const { client, server } = await pair();
      await client.connection.close();
      expect(client.connection.closed).toBe(true);
      expect(await server.closed).toBeUndefined();
      expect(server.connection.closed).toBe(true);
      await sleep(20);
      expect(client.closes).toEqual([undefined]);
      expect(server.closes).toEqual([undefined]);
    });

    it('server close() fires onClose once, without error, on both ends', async () => {
      const { client, server } = await pair();
      await server.connection.close();
      expect(await client.closed).toBeUndefined();
      await sleep(20);
      expect(client.closes).toEqual([undefined]);
      expect(server.closes).toEqual([undefined]);
    });

    it('close() sends queued writes first', async () => {
      const { client, server } = await pair();
      const big = randomBytes(1 << 20);
      client.connection.write(big);
      client.connection.write(Buffer.from('tail'));
      const closing = client.connection.close();
      // Writes after close() are dropped without an error.
      client.connection.write(Buffer.from('dropped'));
      await closing;
      expect(await server.closed).toBeUndefined();
      expect(server.data().equals(Buffer.concat([big, Buffer.from('tail')]))).toBe(true);
    });

    it('close() twice and destroy() afterwards still report one close', async () => {
      const { client, server } = await pair();
      const first = client.connection.close();
      const second = client.connection.close();
      await Promise.all([first, second]);
      client.connection.destroy(new Error('late'));
      await client.connection.close();
      await server.closed;
      await sleep(20);
      expect(client.closes).toEqual([undefined]);
      expect(server.closes).toHaveLength(1);
    });

    it('destroy(error) reports that error locally and closes the peer', async () => {
      const { client, server } = await pair();
      const error = new Error('boom');
      client.connection.destroy(error);
      expect(client.connection.closed).toBe(true);
      expect(await client.closed).toBe(error);
      await server.closed;
      await sleep(20);
      expect(client.closes).toHaveLength(1);
      expect(server.closes).toHaveLength(1);
    });

    it('pauseReading() stops delivery, writes go on and close() still completes', async () => {
      const { client, server } = await pair();
      server.connection.pauseReading();
      client.connection.write(Buffer.from('held'));
      server.connection.write(Buffer.from('sent'));
      await client.waitFor(4);
      await sleep(50);
      expect(server.received).toBe(0);
      expect(client.data().toString()).toBe('sent');
      await server.connection.close();
      expect(await client.closed).toBeUndefined();
      expect(server.closes).toEqual([undefined]);
    });

    it('pauseReading() holds what arrives until resumeReading(), then delivers it in order', async () => {
      const { client, server } = await pair();
      server.connection.pauseReading();
      const sent = [Buffer.from('one '), randomBytes(200_000), Buffer.from(' two')];
      for (const part of sent) client.connection.write(part);
      await sleep(100);
      expect(server.received).toBe(0);
      server.connection.resumeReading();
      const expected = Buffer.concat(sent);
      await server.waitFor(expected.length);
      expect(server.data().equals(expected)).toBe(true);
      // and reading goes on as before
      client.connection.write(Buffer.from('more'));
      await server.waitFor(expected.length + 4);
    });

    const holdsWriter = setup.pauseDoesNotHoldWriter
      ? `(the writer is not held back: ${setup.pauseDoesNotHoldWriter})`
      : 'holds the writer back';
    it(`a peer that pauses ${holdsWriter}; onDrain reports until pendingBytes is under 64 KiB`, async () => {
      const { client, server } = await pair();
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
        expect(client.received).toBe(0);
        expect(server.connection.pendingBytes).toBeGreaterThan(0);
      }
      client.connection.resumeReading();
      await client.waitFor(size);
      expect(client.data().equals(down)).toBe(true);
      const deadline = Date.now() + 5000;
      while (server.connection.pendingBytes > 0 && Date.now() < deadline) await sleep(10);
      expect(server.drains.length).toBeGreaterThan(0);
      expect(server.drains[server.drains.length - 1]).toBeLessThan(DRAIN_NOTICE_BYTES);
    });

    it('a handler that throws closes its connection with that error', async () => {
      const { client, server } = await pair();
      const error = new Error('handler failed');
      server.onDataHook = () => {
        throw error;
      };
      client.connection.write(Buffer.from('x'));
      expect(await server.closed).toBe(error);
      await client.closed;
      expect(client.closes).toHaveLength(1);
    });

    it('a refused dial rejects with DialError RPCX_ERR_DIAL', async () => {
      const address = await setup.refusedAddress();
      const error = await setup
        .transport()
        .dial(setup.network, address, setup.dialOptions ?? {})
        .then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ name: 'DialError', code: 'RPCX_ERR_DIAL' });
      expect((error as Error).message).toContain(address);
      expect((error as Error).cause).toBeDefined();
    });

    it('a dial with an aborted signal rejects with AbortError', async () => {
      const { transport, dialAddress } = await listen();
      const controller = new AbortController();
      const reason = new Error('stop');
      controller.abort(reason);
      const dialing = transport.dial(setup.network, dialAddress, { ...setup.dialOptions, signal: controller.signal });
      await expect(dialing).rejects.toMatchObject({ name: 'AbortError', code: 'RPCX_ERR_ABORTED', cause: reason });
    });

    it('listener close() stops accepting, leaves open connections, and nothing leaks', async () => {
      const { transport, listener, dialAddress, client, server } = await pair();
      await listener.close();
      await expect(transport.dial(setup.network, dialAddress, setup.dialOptions ?? {})).rejects.toMatchObject({
        code: 'RPCX_ERR_DIAL',
      });
      client.connection.write(Buffer.from('still'));
      await server.waitFor(5);
      if (listener.connectionCount) expect(await listener.connectionCount()).toBe(1);
      await client.connection.close();
      await server.closed;
      if (listener.drained) await listener.drained;
      if (listener.connectionCount) expect(await listener.connectionCount()).toBe(0);
    });

    if (setup.stalledAddress) {
      const stalled = setup.stalledAddress;
      it('a dial that does not complete in timeoutMs rejects with DialTimeoutError RPCX_ERR_DIAL_TIMEOUT', async () => {
        const target = await stalled();
        cleanups.push(() => target.close());
        const started = Date.now();
        const error = await setup
          .transport()
          .dial(setup.network, target.address, { ...setup.dialOptions, timeoutMs: 200 })
          .then(() => undefined, (e: unknown) => e);
        const elapsed = Date.now() - started;
        expect(error).toMatchObject({ name: 'DialTimeoutError', code: 'RPCX_ERR_DIAL_TIMEOUT' });
        expect((error as Error).message).toBe(`dial ${setup.network} ${target.address}: i/o timeout`);
        expect(elapsed).toBeGreaterThanOrEqual(190);
        expect(elapsed).toBeLessThan(2000);
      });

      it('an AbortSignal fired during the dial rejects with AbortError', async () => {
        const target = await stalled();
        cleanups.push(() => target.close());
        const controller = new AbortController();
        const dialing = setup
          .transport()
          .dial(setup.network, target.address, { ...setup.dialOptions, timeoutMs: 5000, signal: controller.signal });
        setTimeout(() => controller.abort(), 50);
        await expect(dialing).rejects.toMatchObject({ name: 'AbortError', code: 'RPCX_ERR_ABORTED' });
      });
    }
  });
}
