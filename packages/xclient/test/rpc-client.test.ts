// One connection's calls: deadlines (one timer per connection), a connection that breaks, a
// close with calls waiting, and the plain call path of the XClient (auth, plugins' own frames).
import net from 'node:net';
import { CallTimeoutError, ConnectionLostError, MetaKey, ShutdownError, silentLogger, type ClientPlugin, type RpcMessage } from '@rpcx/core';
import { CodecRegistry, CompressorRegistry, FrameDecoder, Message, encodeMessage } from '@rpcx/protocol';
import { RpcClient, XClient, peer2peer, type RpcClientConfig } from '@rpcx/xclient';
import { codec, startServer, transport, waitFor, type TestServer } from './support.js';

const config: RpcClientConfig = {
  codecs: new CodecRegistry([codec]),
  compressors: new CompressorRegistry(),
  serializeType: codec.serializeType,
  compressType: 0,
  timeoutMs: 0,
  heartbeatIntervalMs: 0,
  heartbeatTimeoutMs: 0,
  plugins: [],
  logger: silentLogger,
};

/** A TCP peer that reads requests and never answers; `drop()` resets every connection. */
async function silentPeer() {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    const decoder = new FrameDecoder();
    s.on('data', (chunk) => decoder.push(chunk, () => void requests++));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    address,
    get requests() {
      return requests;
    },
    drop: () => {
      for (const s of sockets) s.resetAndDestroy();
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** An RpcClient on a new TCP connection to `address`. */
const connect = async (address: string) => new RpcClient(await transport.dial('tcp', address, {}), `tcp@${address}`, config);

let peer: Awaited<ReturnType<typeof silentPeer>>;
let client: RpcClient;

beforeEach(async () => {
  peer = await silentPeer();
  client = await connect(peer.address);
});

afterEach(async () => {
  await client.close();
  await peer.stop();
});

test('a call whose reply never comes fails with CallTimeoutError at its deadline, and leaves nothing pending', async () => {
  const started = performance.now();
  await expect(client.call('Who', 'Name', null, { timeoutMs: 50 })).rejects.toBeInstanceOf(CallTimeoutError);
  // Not before its deadline (the timer may round a fraction of a millisecond).
  expect(performance.now() - started).toBeGreaterThanOrEqual(49);
  expect(client.pendingCalls).toBe(0);
});

test('a shorter deadline than those waiting fires first; the longer calls keep theirs', async () => {
  const long = client.call('Who', 'Name', null, { timeoutMs: 60_000 });
  const short = client.call('Who', 'Name', null, { timeoutMs: 30 });
  const alsoShort = client.call('Who', 'Name', null, { timeoutMs: 40 });
  await expect(short).rejects.toBeInstanceOf(CallTimeoutError);
  await expect(alsoShort).rejects.toBeInstanceOf(CallTimeoutError);
  expect(client.pendingCalls).toBe(1);
  await client.close();
  await expect(long).rejects.toBeInstanceOf(ShutdownError);
  expect(client.pendingCalls).toBe(0);
});

test('a timeout longer than one timer can take (2^31 ms) does not fire early', async () => {
  const long = client.call('Who', 'Name', null, { timeoutMs: 3_000_000_000 });
  long.catch(() => {});
  await expect(client.call('Who', 'Name', null, { timeoutMs: 50 })).rejects.toBeInstanceOf(CallTimeoutError);
  expect(client.pendingCalls).toBe(1);
  await client.close();
  await expect(long).rejects.toBeInstanceOf(ShutdownError);
});

test('the client default timeout applies to every call, and each fails at its own deadline', async () => {
  const timed = new RpcClient(await transport.dial('tcp', peer.address, {}), `tcp@${peer.address}`, { ...config, timeoutMs: 300 });
  try {
    const first = timed.call('Who', 'Name', null);
    await new Promise((r) => setTimeout(r, 150));
    const second = timed.call('Who', 'Name', null);
    await expect(first).rejects.toBeInstanceOf(CallTimeoutError);
    // The second was made at least 150 ms later: still waiting when the first failed.
    expect(timed.pendingCalls).toBe(1);
    await expect(second).rejects.toBeInstanceOf(CallTimeoutError);
    expect(timed.pendingCalls).toBe(0);
  } finally {
    await timed.close();
  }
});

test('calls waiting when the connection breaks fail with ConnectionLostError; later calls with ShutdownError', async () => {
  const waiting = [client.call('Who', 'Name', null), client.call('Who', 'Name', null, { timeoutMs: 60_000 })];
  await waitFor(() => peer.requests === 2, 'both requests to arrive');
  peer.drop();
  for (const call of waiting) await expect(call).rejects.toBeInstanceOf(ConnectionLostError);
  expect(client.pendingCalls).toBe(0);
  await expect(client.call('Who', 'Name', null)).rejects.toBeInstanceOf(ShutdownError);
});

test('close() fails every waiting call with ShutdownError', async () => {
  const waiting = Array.from({ length: 5 }, (_, i) => client.call('Who', 'Name', null, i % 2 ? { timeoutMs: 60_000 } : {}));
  await client.close();
  for (const call of waiting) await expect(call).rejects.toBeInstanceOf(ShutdownError);
  expect(client.pendingCalls).toBe(0);
});

describe('plain calls of an XClient (Failfast, nothing around them)', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer('a');
  });
  afterEach(() => server.kill());

  test('send the auth token and the caller metadata, and leave the caller map as it was', async () => {
    const xc = new XClient({ servicePath: 'Who', discovery: peer2peer(server.key), transports: [transport], codecs: [codec], auth: 'tok' });
    try {
      const metadata = { tenant: 't1' };
      await expect(xc.call('Name', null, { metadata })).resolves.toBe('a');
      await expect(xc.call('Name', null)).resolves.toBe('a');
      expect(server.metadata[0]).toMatchObject({ tenant: 't1', [MetaKey.Auth]: 'tok' });
      expect(server.metadata[1]).toMatchObject({ [MetaKey.Auth]: 'tok' });
      expect(server.metadata[1].tenant).toBeUndefined();
      expect(metadata).toEqual({ tenant: 't1' });
    } finally {
      await xc.close();
    }
  });

  test('a beforeEncode plugin gets a message of its own per call and a copy of the caller metadata', async () => {
    const seen: RpcMessage[] = [];
    const stamp: ClientPlugin = {
      beforeEncode(m) {
        seen.push(m);
        m.metadata.stamped = String(seen.length);
      },
    };
    const xc = new XClient({ servicePath: 'Who', discovery: peer2peer(server.key), transports: [transport], codecs: [codec], plugins: [stamp] });
    try {
      const metadata = { tenant: 't1' };
      await Promise.all([xc.call('Name', null, { metadata }), xc.call('Name', null, { metadata })]);
      expect(seen).toHaveLength(2);
      expect(seen[0]).not.toBe(seen[1]);
      expect(seen.map((m) => m.metadata.stamped).sort()).toEqual(['1', '2']);
      expect(server.metadata.map((m) => m.stamped).sort()).toEqual(['1', '2']);
      expect(metadata).toEqual({ tenant: 't1' });
    } finally {
      await xc.close();
    }
  });
});

describe('many calls on one connection, answered out of order', () => {
  /**
   * A TCP peer that echoes each request's payload, except calls to `Held`, which it keeps
   * until a call to `Release` answers them, last first.
   */
  async function holdingPeer() {
    const server = net.createServer((s) => {
      s.on('error', () => {});
      const decoder = new FrameDecoder();
      const held: Message[] = [];
      const answer = (m: Message) => {
        const reply = m.toResponse();
        reply.payload = m.payload;
        s.write(encodeMessage(reply));
      };
      s.on('data', (chunk) =>
        decoder.push(chunk, (m) => {
          if (m.serviceMethod === 'Held') return void held.push(m);
          answer(m);
          if (m.serviceMethod === 'Release') while (held.length > 0) answer(held.pop()!);
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, stop: () => new Promise((r) => server.close(r)) };
  }

  let holding: Awaited<ReturnType<typeof holdingPeer>>;
  let rpc: RpcClient;
  beforeEach(async () => {
    holding = await holdingPeer();
    rpc = await connect(holding.address);
  });
  afterEach(async () => {
    await rpc.close();
    await holding.stop();
  });

  /** `count` echo calls, `inflight` at a time, each checked against its own argument. */
  async function echoCalls(count: number, inflight: number): Promise<void> {
    let next = 0;
    const loop = async () => {
      while (next < count) {
        const n = next++;
        expect(await rpc.call('Echo', 'Echo', { n })).toEqual({ n });
      }
    };
    await Promise.all(Array.from({ length: inflight }, loop));
  }

  test('calls kept waiting while 20,000 others come and go each get their own reply', async () => {
    const held = [0, 1, 2].map((n) => rpc.call('Echo', 'Held', { held: n }));
    await echoCalls(20_000, 300);
    expect(rpc.pendingCalls).toBe(3);
    const [released, ...answers] = await Promise.all([rpc.call('Echo', 'Release', {}), ...held]);
    expect(released).toEqual({});
    expect(answers).toEqual([{ held: 0 }, { held: 1 }, { held: 2 }]);
    expect(rpc.pendingCalls).toBe(0);
  });

  test('close() fails every waiting call, those kept from long ago included', async () => {
    const early = [0, 1].map((n) => rpc.call('Echo', 'Held', { held: n }));
    await echoCalls(10_000, 64);
    const late = Array.from({ length: 100 }, (_, n) => rpc.call('Echo', 'Held', { late: n }));
    await waitFor(() => rpc.pendingCalls === 102, '102 calls waiting');
    await rpc.close();
    for (const call of [...early, ...late]) await expect(call).rejects.toBeInstanceOf(ShutdownError);
    expect(rpc.pendingCalls).toBe(0);
  });
});
