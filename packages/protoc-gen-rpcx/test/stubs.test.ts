// The generated stubs at work (test/snapshots/greeter_rpcx.ts, the reviewed snapshot): a server
// registered through registerGreeter answers clients made by newGreeterClient and
// newGreeterOneClient, in process over the memory transport. Interop with Go's stubs is in
// interop/test/stubs.test.ts.
import { create, isMessage } from '@bufbuild/protobuf';
import { timestampFromDate, timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { SerializeType, ServiceError } from '@rpcx/core';
import { Server, type RequestContext } from '@rpcx/server';
import { memoryTransport } from '@rpcx/transport-memory';
import { OneClient, XClient, peer2peer } from '@rpcx/xclient';
import { HelloReply_ClockSchema, HelloReplySchema, HelloRequestSchema, type HelloRequest } from './snapshots/greeter_pb.js';
import { GreeterService, newGreeterClient, newGreeterOneClient, registerGreeter, type GreeterAble } from './snapshots/greeter_rpcx.js';

/** A user's implementation: a class with state and a helper the stubs must not expose. */
class Greeter implements GreeterAble {
  private readonly greeting = 'Hello';

  SayHello(args: HelloRequest, ctx: RequestContext) {
    if (args.name === '') throw new Error('a name is required');
    ctx.responseMetadata.greeted = args.name;
    return { message: `${this.greeting}, ${args.name}${ctx.metadata.suffix ?? ''}` };
  }

  async Clock(now: Timestamp) {
    return create(HelloReply_ClockSchema, { now: timestampFromDate(new Date(timestampMs(now) + 1000)) });
  }

  helper(): string {
    return 'not a method of the service';
  }
}

const memu = memoryTransport();
const address = `greeter-${process.pid}`;
let server: Server;
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  server = new Server({ transports: [memu], codecs: [protobufCodec()] });
  await registerGreeter(server, new Greeter());
  await server.listen('memu', address);
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c.close()));
  await server.close();
});

function xclient(): XClient {
  const client = new XClient({
    servicePath: GreeterService.servicePath,
    discovery: peer2peer(`memu@${address}`),
    transports: [memu],
    codecs: [protobufCodec()],
    serializeType: SerializeType.ProtoBuffer,
  });
  closers.push(client);
  return client;
}

describe('generated stubs, TS to TS', () => {
  test('newGreeterClient: an init object in, a protobuf-es message out; metadata both ways', async () => {
    const greeter = newGreeterClient(xclient());
    const responseMetadata: Record<string, string> = {};
    const reply = await greeter.SayHello({ name: 'Ada' }, { metadata: { suffix: '!' }, responseMetadata });
    expect(isMessage(reply, HelloReplySchema)).toBe(true);
    expect(reply.message).toBe('Hello, Ada!');
    expect(responseMetadata.greeted).toBe('Ada');
    // A message made with create() is sent as it is.
    expect((await greeter.SayHello(create(HelloRequestSchema, { name: 'Grace' }))).message).toBe('Hello, Grace');
  });

  test('a well-known type as args and a nested message as reply', async () => {
    const greeter = newGreeterClient(xclient());
    const reply = await greeter.Clock(timestampFromDate(new Date(Date.UTC(2026, 0, 1))));
    expect(isMessage(reply, HelloReply_ClockSchema)).toBe(true);
    expect(timestampMs(reply.now!)).toBe(Date.UTC(2026, 0, 1) + 1000);
  });

  test('calls are protobuf whatever the XClient\'s default serialize type', async () => {
    const msgpackDefault = new XClient({
      servicePath: GreeterService.servicePath,
      discovery: peer2peer(`memu@${address}`),
      transports: [memu],
      codecs: [protobufCodec(), { serializeType: SerializeType.MsgPack, name: 'msgpack', encode: () => new Uint8Array(0), decode: () => null }],
    });
    closers.push(msgpackDefault);
    expect((await newGreeterClient(msgpackDefault).SayHello({ name: 'Lin' })).message).toBe('Hello, Lin');
  });

  test('a thrown error reaches the caller as a ServiceError with its text', async () => {
    const err = await newGreeterClient(xclient())
      .SayHello({ name: '' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).message).toBe('a name is required');
  });

  test('the proto name of a lower-case method answers too (what a Go client sends); helpers are not exposed', async () => {
    const client = xclient();
    const at = timestampFromDate(new Date(Date.UTC(2026, 5, 1)));
    const reply = await client.call('clock', at, { schema: GreeterService.schemas.Clock });
    expect(timestampMs((reply as { now: Timestamp }).now)).toBe(Date.UTC(2026, 5, 1) + 1000);
    await expect(client.call('helper', {}, { schema: GreeterService.schemas.SayHello })).rejects.toThrow("rpcx: can't find method helper");
  });

  test('newGreeterOneClient calls through a OneClient', async () => {
    const one = new OneClient({ discovery: peer2peer(`memu@${address}`), transports: [memu], codecs: [protobufCodec()], serializeType: SerializeType.ProtoBuffer });
    closers.push(one);
    expect((await newGreeterOneClient(one).SayHello({ name: 'Bo' })).message).toBe('Hello, Bo');
  });
});
