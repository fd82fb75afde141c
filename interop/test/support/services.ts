// The TypeScript mirror of the Go peer's services (interop/SERVICES.md), so the same Go client
// scenarios run against a Go server and against ours.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ServiceError, type Codec, type RequestContext } from '@rpcx/core';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { TType, thriftCodec } from '@rpcx/codec-thrift';
import { Server, type ServerOptions } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';

const protoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'go', 'proto');
export const protoRoot = protobuf.loadSync([join(protoDir, 'arith.proto'), join(protoDir, 'bench.proto')]);
export const ProtoArgs = protoRoot.lookupType('rpcxinterop.ProtoArgs');
export const ProtoReply = protoRoot.lookupType('rpcxinterop.ProtoReply');
export const BenchmarkMessage = protoRoot.lookupType('rpcxinterop.BenchmarkMessage');

/* eslint-disable @typescript-eslint/no-explicit-any */
type Protocol = any;

/** Thrift structs in the shape the Thrift compiler generates (read/write over a protocol). */
function i32Struct(name: string, fields: string[]) {
  return class {
    [key: string]: unknown;
    constructor(args?: Record<string, unknown>) {
      for (const f of fields) this[f] = args?.[f] ?? null;
    }
    read(input: Protocol): void {
      input.readStructBegin();
      for (;;) {
        const { ftype, fid } = input.readFieldBegin();
        if (ftype === TType.STOP) break;
        const field = fields[fid - 1];
        if (field && ftype === TType.I32) this[field] = input.readI32();
        else input.skip(ftype);
        input.readFieldEnd();
      }
      input.readStructEnd();
    }
    write(output: Protocol): void {
      output.writeStructBegin(name);
      fields.forEach((f, i) => {
        if (this[f] === null || this[f] === undefined) return;
        output.writeFieldBegin(f, TType.I32, i + 1);
        output.writeI32(this[f]);
        output.writeFieldEnd();
      });
      output.writeFieldStop();
      output.writeStructEnd();
    }
  };
}
export const ThriftArgs = i32Struct('ThriftArgs', ['A', 'B']);
export const ThriftReply = i32Struct('ThriftReply', ['C']);

interface Args {
  A: number;
  B: number;
}

export class Arith {
  private lastSlow = -1;
  private notes: number[] = [];

  Mul(a: Args) {
    return { C: a.A * a.B };
  }
  Add(a: Args) {
    return { C: a.A + a.B };
  }
  Error(a: Args): never {
    // Go sends the reply set before the error along with it.
    throw new ServiceError(`boom ${a.A}`, { reply: { C: a.A } });
  }
  Meta(_a: Args, ctx: RequestContext) {
    const keys = Object.keys(ctx.metadata);
    for (const k of keys) ctx.responseMetadata[`echo-${k}`] = ctx.metadata[k];
    return { C: keys.length };
  }
  Deadline(_a: Args, ctx: RequestContext) {
    return { C: ctx.deadline === undefined ? -1 : Math.round(ctx.deadline - Date.now()) };
  }
  async Slow(a: Args, ctx: RequestContext) {
    const signal = ctx.signal;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, a.A);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    this.lastSlow = signal.aborted ? 1 : 0;
    return { C: this.lastSlow };
  }
  LastSlow() {
    return { C: this.lastSlow };
  }
  Notify(a: Args) {
    this.notes.push(a.A);
    return { C: 0 };
  }
  Notified() {
    const sum = this.notes.reduce((s, n) => s + n, 0);
    this.notes = [];
    return { C: sum };
  }
  async Push(a: Args, ctx: RequestContext) {
    await ctx.push('Push', 'Hello', Buffer.from(`push ${a.A}`), { k: 'v' });
    return { C: a.A };
  }
}

export class Echo {
  Echo(payload: Uint8Array) {
    return payload;
  }
}

export class Int64 {
  Echo(wide: unknown) {
    return wide;
  }
}

/** ServiceUser of the seed; JSON uses the json tags, msgpack the Go field names (both inlined). */
function user(ctx: RequestContext, uid: number, addTime: number, userType: number, uface: string, name: string) {
  if (ctx.message.serializeType === 1) return { id: uid, addtime: addTime, utype: userType, uface, uname: name };
  return { UID: uid, AddTime: addTime, UserType: userType, Uface: uface, UserName: name };
}

export class ServiceUser {
  UserInfo(a: { Uid: number }, ctx: RequestContext) {
    return user(ctx, a.Uid, 14990093, 2, 'http://image.xxxx.xxx/t.gif', 'Joke');
  }
}

export function UserReply(a: { Uid: number }, ctx: RequestContext) {
  return user(ctx, a.Uid, 10000999, 3, 'http://image.xxxx.xxx/reply.gif', 'Reply');
}

export class PB {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
  Echo(m: Record<string, unknown>) {
    return { ...m, field1: 'OK', field2: 100 };
  }
}

export class Thrift {
  Mul(a: { A: number; B: number }) {
    return new ThriftReply({ C: a.A * a.B });
  }
}

export const allCodecs = () => [jsonCodec(), msgpackCodec(), protobufCodec(), thriftCodec()];

/**
 * A codec of the application's own at serialize type 5, as the Go peer's `user-codec` scenario
 * registers it: JSON, then base64. `seen` gets every payload it decodes, as text.
 */
export function userCodec(seen: string[] = []): Codec {
  return {
    serializeType: 5,
    name: 'base64-json',
    encode: (value) => Buffer.from(Buffer.from(JSON.stringify(value ?? null)).toString('base64'), 'latin1'),
    decode: (data) => {
      const text = Buffer.from(data).toString('latin1');
      seen.push(text);
      return JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
    },
  };
}

/**
 * A TS server with every interop service, listening on 127.0.0.1:0 on `network` (pass the
 * transport that serves it in `options.transports` when it is not tcp).
 */
export async function startTsServer(options: ServerOptions = {}, network = 'tcp') {
  const server = new Server({ transports: [tcpTransport()], codecs: allCodecs(), ...options });
  await server.register(new Arith());
  await server.register(new Echo());
  await server.register(new Int64());
  await server.register(new ServiceUser());
  await server.registerFunction('ServiceUserFn', UserReply);
  await server.register(new PB(), {
    schemas: { Mul: { args: ProtoArgs, reply: ProtoReply }, Echo: { args: BenchmarkMessage, reply: BenchmarkMessage } },
  });
  await server.register(new Thrift(), { schemas: { Mul: { args: ThriftArgs, reply: ThriftReply } } });
  const listener = await server.listen(network, '127.0.0.1:0');
  return { server, key: `${network}@${listener.address}`, address: listener.address };
}

// The benchmark request is the benchmark's own (581 bytes in protobuf).
export { benchmarkArgs } from '../../../bench/src/message.js';
