// A hostile server must not crash or wedge a client. A tiny net.Server answers each request
// with whatever reply the test asks for (deep payloads, an oversized frame); the call gets the
// typed error, and the same XClient keeps calling a real server, and the hostile one too when
// its connection survived.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import {
  ConnectionError,
  MessageTooLongError,
  PayloadTooDeepError,
  PayloadTooLargeError,
  FailMode,
  type Selector,
} from '@rpcx/core';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { FrameDecoder, Message, encodeMessage } from '@rpcx/protocol';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, multipleServers } from '@rpcx/xclient';
import { Node, startServer, type Fixture } from '../src/fixture.js';
import { deepJson, deepMsgpack, deepProtobuf, manyMaps } from '../src/payloads.js';

const MiB = 1024 * 1024;

/** What the hostile server sends back for one request. */
type Answer = (request: Message) => Uint8Array;

/** A reply to `request` carrying `payload` as it is, whatever it holds. */
const replyWith = (payload: Uint8Array): Answer => (request) => {
  const reply = request.toResponse();
  reply.payload = payload;
  return encodeMessage(reply);
};

/** A frame prefix announcing 1 GiB, and nothing after it. */
const oversizedFrame: Answer = (request) => {
  const prefix = Buffer.from(encodeMessage(request.toResponse()).subarray(0, 16));
  prefix.writeUInt32BE(1 << 30, 12);
  return prefix;
};

class HostileServer {
  /** How the next request is answered; the queue is consumed in order. */
  readonly answers: Answer[] = [];
  /** Requests received so far. */
  requests = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(readonly net: NetServer, readonly key: string) {}

  static async start(): Promise<HostileServer> {
    let hostile: HostileServer | undefined;
    const net = createServer((socket) => {
      hostile!.sockets.add(socket);
      socket.on('close', () => hostile!.sockets.delete(socket));
      socket.on('error', () => {});
      const decoder = new FrameDecoder();
      socket.on('data', (chunk: Buffer) =>
        decoder.push(chunk, (request) => {
          hostile!.requests++;
          const answer = hostile!.answers.shift();
          if (answer) socket.write(answer(request));
        }),
      );
    });
    await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
    hostile = new HostileServer(net, `tcp@127.0.0.1:${(net.address() as { port: number }).port}`);
    return hostile;
  }

  get connections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.net.close(() => resolve()));
  }
}

/** Sends each call to the server named in its `to` metadata. */
function byName(servers: Record<string, string>): Selector {
  return { select: (request) => servers[request.metadata?.to ?? ''], updateServers() {} };
}

describe('a client facing a hostile server', () => {
  let good: Fixture;
  let hostile: HostileServer;
  let client: XClient;
  const to = (name: 'hostile' | 'good') => ({ metadata: { to: name } });

  beforeAll(async () => {
    good = await startServer();
    hostile = await HostileServer.start();
    client = new XClient({
      servicePath: 'Arith',
      discovery: multipleServers([{ key: hostile.key, value: '' }, { key: good.key, value: '' }]),
      selector: () => byName({ hostile: hostile.key, good: good.key }),
      failMode: FailMode.Failfast,
      transports: [tcpTransport()],
      codecs: [msgpackCodec(), jsonCodec(), protobufCodec()],
      timeoutMs: 30_000,
    });
  });

  afterAll(async () => {
    await client.close();
    await hostile.close();
    await good.server.close();
  });

  beforeEach(() => {
    hostile.answers.length = 0;
  });

  const callGood = async () => expect(await client.call('Mul', { A: 6, B: 7 }, to('good'))).toEqual({ C: 42 });

  test('a reply of 32 MiB of 0x91 fails that call with PayloadTooDeepError; both connections go on', async () => {
    hostile.answers.push(replyWith(deepMsgpack()), replyWith(msgpackCodec().encode({ C: 1 })));
    const err = await client.call('Mul', { A: 1, B: 1 }, to('hostile')).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PayloadTooDeepError);
    expect((err as Error).message).toBe('msgpack: payload nested deeper than the maxDepth limit of 1000');
    await callGood();
    // The hostile server's connection was not dropped for a bad payload: its next reply is read.
    expect(await client.call('Mul', { A: 1, B: 1 }, to('hostile'))).toEqual({ C: 1 });
    expect(hostile.connections).toBe(1);
  });

  test('deep JSON and deep protobuf replies, and a flood of empty maps, fail with the typed errors', async () => {
    hostile.answers.push(replyWith(deepJson(8 * MiB)));
    const json = await client.call('Mul', { A: 1, B: 1 }, { ...to('hostile'), serializeType: 1 }).catch((e: Error) => e);
    expect(json).toBeInstanceOf(PayloadTooDeepError);
    expect((json as Error).message.startsWith('json: ')).toBe(true);

    hostile.answers.push(replyWith(deepProtobuf(200)));
    const pb = await client
      .call('Echo', {}, { ...to('hostile'), serializeType: 2, schema: { args: Node, reply: Node } })
      .catch((e: Error) => e);
    expect(pb).toBeInstanceOf(PayloadTooDeepError);
    expect((pb as Error).message.startsWith('protobuf: ')).toBe(true);

    hostile.answers.push(replyWith(manyMaps(2 * MiB)));
    expect(await client.call('Mul', { A: 1, B: 1 }, to('hostile')).catch((e: Error) => e)).toBeInstanceOf(PayloadTooLargeError);
    await callGood();
  });

  test('an oversized frame closes that connection before buffering it; the call fails with the cause', async () => {
    hostile.answers.push(oversizedFrame);
    const err = await client.call('Mul', { A: 1, B: 1 }, to('hostile')).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ code: 'RPCX_ERR_CONNECTION_LOST' });
    expect((err as Error).cause).toBeInstanceOf(MessageTooLongError);
    await callGood();
    // The client dials the hostile server again for the next call.
    hostile.answers.push(replyWith(msgpackCodec().encode({ C: 2 })));
    expect(await client.call('Mul', { A: 1, B: 2 }, to('hostile'))).toEqual({ C: 2 });
  });

  test('Failover does not retry a reply over a codec limit (Go does not retry an undecodable reply)', async () => {
    const failover = new XClient({
      servicePath: 'Arith',
      discovery: multipleServers([{ key: hostile.key, value: '' }]),
      failMode: FailMode.Failover,
      retries: 3,
      transports: [tcpTransport()],
      codecs: [msgpackCodec()],
      timeoutMs: 30_000,
    });
    try {
      hostile.answers.push(replyWith(deepMsgpack(64 * 1024)));
      const before = hostile.requests;
      expect(await failover.call('Mul', { A: 1, B: 1 }).catch((e: Error) => e)).toBeInstanceOf(PayloadTooDeepError);
      expect(hostile.requests - before).toBe(1);
    } finally {
      await failover.close();
    }
  });

  test('maxMessageLength on the client bounds reply frames', async () => {
    const small = new XClient({
      servicePath: 'Arith',
      discovery: multipleServers([{ key: hostile.key, value: '' }]),
      transports: [tcpTransport()],
      codecs: [msgpackCodec()],
      maxMessageLength: MiB,
      timeoutMs: 30_000,
    });
    try {
      hostile.answers.push(replyWith(msgpackCodec().encode({ C: 'x'.repeat(2 * MiB) })));
      const err = await small.call('Mul', { A: 1, B: 1 }).catch((e: Error) => e);
      expect((err as Error).cause).toBeInstanceOf(MessageTooLongError);
      expect((err as Error).cause).toMatchObject({ limit: MiB });
    } finally {
      await small.close();
    }
  });
});
