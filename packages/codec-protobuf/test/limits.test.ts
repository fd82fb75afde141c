import { CodecError, ConfigError, PayloadTooDeepError, PayloadTooLargeError } from '@rpcx/core';
import { thrownBy } from '@rpcx/core/testing';
import protobuf from 'protobufjs';
import { DEFAULT_PROTOBUF_LIMITS, protobufCodec } from '../src/index.js';

const root = protobuf.parse(
  `syntax = "proto3";
  message Node {
    Node child = 1; repeated Node kids = 2; bytes data = 3; int64 n = 4; repeated int64 ns = 5;
    map<string, Node> m = 6; string s = 7;
  }`,
  { keepCase: true },
).root;
const Node = root.lookupType('Node');


const varint = (n: number): number[] => {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
};

/** `depth` Node messages nested through field 1 (`child`), built from the inside out. */
function nested(depth: number): Uint8Array {
  const lengths = [0];
  for (let i = 1; i < depth; i++) lengths.push(1 + varint(lengths[i - 1]).length + lengths[i - 1]);
  const bytes: number[] = [];
  for (let i = depth - 1; i >= 0; i--) bytes.push(0x0a, ...varint(lengths[i]));
  return new Uint8Array(bytes);
}

/** `count` copies of one field (`tag`, then `body`). */
const repeated = (count: number, field: number[]) => new Uint8Array(Array.from({ length: count }, () => field).flat());

describe('protobuf decoding limits', () => {
  test('100 levels (protobufjs and C++ protobuf default) decode; 101 are a PayloadTooDeepError', () => {
    const codec = protobufCodec();
    expect(codec.decode(nested(DEFAULT_PROTOBUF_LIMITS.maxDepth), Node)).toMatchObject({ child: { child: {} } });
    const err = thrownBy(() => codec.decode(nested(DEFAULT_PROTOBUF_LIMITS.maxDepth + 1), Node));
    expect(err).toBeInstanceOf(PayloadTooDeepError);
    expect(err.message).toBe('protobuf: payload nested deeper than the maxDepth limit of 100');
  });

  test('a million levels in 4 MB are refused by the walk, and the codec goes on', () => {
    const codec = protobufCodec();
    expect(thrownBy(() => codec.decode(nested(1_000_000), Node))).toBeInstanceOf(PayloadTooDeepError);
    expect(codec.decode(new Uint8Array([0x20, 0x05]), Node)).toMatchObject({ n: 5n });
  });

  test('maxDepth counts messages and map values; a lower limit is honoured', () => {
    const codec = protobufCodec({ maxDepth: 2 });
    expect(codec.decode(nested(2), Node)).toMatchObject({ child: { child: {} } });
    expect(thrownBy(() => codec.decode(nested(3), Node))).toMatchObject({ limit: 2 });
    // m: { "": { m: { "": {} } } }: the map values are at depth 1 and 2.
    const inner = [0x32, 0x02, 0x12, 0x00];
    const outer = [0x32, 2 + inner.length, 0x12, inner.length, ...inner];
    expect(codec.decode(new Uint8Array(outer), Node)).toMatchObject({ m: { '': { m: { '': {} } } } });
    const tooDeep = [0x32, 2 + outer.length, 0x12, outer.length, ...outer];
    expect(thrownBy(() => codec.decode(new Uint8Array(tooDeep), Node))).toBeInstanceOf(PayloadTooDeepError);
  });

  test('above its own limit protobufjs refuses too, with the same error', () => {
    const codec = protobufCodec({ maxDepth: 500 });
    expect(thrownBy(() => codec.decode(nested(300), Node))).toBeInstanceOf(PayloadTooDeepError);
  });

  test('maxObjects counts messages, the arrays and maps toObject fills in, bytes and 64-bit integers', () => {
    // A Node becomes a message and a plain object, plus [] for kids and ns and {} for m: 5.
    const codec = protobufCodec({ maxObjects: 5 + 5 * 10 });
    const kids = (n: number) => repeated(n, [0x12, 0x00]);
    expect((codec.decode(kids(10), Node) as { kids: unknown[] }).kids).toHaveLength(10);
    const err = thrownBy(() => codec.decode(kids(11), Node));
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err).toMatchObject({ option: 'maxObjects', limit: 55 });

    const few = protobufCodec({ maxObjects: 5 + 10 });
    expect(few.decode(repeated(10, [0x1a, 0x00]), Node)).toBeDefined(); // bytes, last one wins
    expect(thrownBy(() => few.decode(repeated(11, [0x1a, 0x00]), Node))).toMatchObject({ option: 'maxObjects' });
    expect(thrownBy(() => few.decode(repeated(11, [0x20, 0x01]), Node))).toMatchObject({ option: 'maxObjects' });
    // Packed: one per value.
    expect((few.decode(new Uint8Array([0x2a, 10, ...Array(10).fill(1)]), Node) as { ns: unknown[] }).ns).toHaveLength(10);
    expect(thrownBy(() => few.decode(new Uint8Array([0x2a, 11, ...Array(11).fill(1)]), Node))).toMatchObject({ option: 'maxObjects' });
    // Strings are not counted.
    expect(few.decode(repeated(100, [0x3a, 0x00]), Node)).toBeDefined();
    // Without toObject a message is one object and nothing is filled in.
    expect(protobufCodec({ maxObjects: 11, toObject: false }).decode(kids(10), Node)).toBeDefined();
  });

  test('the default maxObjects stops 32 MiB of empty messages before they are built', () => {
    const codec = protobufCodec();
    const bomb = new Uint8Array(32 * 1024 * 1024);
    for (let i = 0; i < bomb.length; i += 2) bomb[i] = 0x12;
    const heapBefore = process.memoryUsage().heapUsed;
    expect(thrownBy(() => codec.decode(bomb, Node))).toMatchObject({ option: 'maxObjects', limit: DEFAULT_PROTOBUF_LIMITS.maxObjects });
    // Built, they would take several GB; the bound leaves room for the rest of the test run.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  test('maxLength holds for every schema', () => {
    const codec = protobufCodec({ maxLength: 4 });
    expect(codec.decode(new Uint8Array([0x20, 0x05]), Node)).toMatchObject({ n: 5n });
    expect(thrownBy(() => codec.decode(new Uint8Array(5), Node))).toMatchObject({ option: 'maxLength', limit: 4 });
    const staticClass = { encode: () => ({ finish: () => new Uint8Array(0) }), decode: () => ({}) };
    expect(thrownBy(() => codec.decode(new Uint8Array(5), staticClass))).toBeInstanceOf(PayloadTooLargeError);
  });

  test('a static-codegen decoder without a depth limit overflows the stack: still a PayloadTooDeepError', () => {
    // Shaped like old pbjs static code: decode recurses into field 1 with no depth check.
    const Deep = {
      encode: () => protobuf.Writer.create(),
      decode(input: protobuf.Reader | Uint8Array, length?: number): object {
        const reader = input instanceof protobuf.Reader ? input : protobuf.Reader.create(input);
        const end = length === undefined ? reader.len : reader.pos + length;
        const message: { child?: object } = {};
        while (reader.pos < end) {
          const tag = reader.uint32();
          if (tag === 0x0a) message.child = Deep.decode(reader, reader.uint32());
          else reader.skipType(tag & 7);
        }
        return message;
      },
    };
    const codec = protobufCodec();
    expect(thrownBy(() => codec.decode(nested(200_000), Deep))).toBeInstanceOf(PayloadTooDeepError);
    expect(codec.decode(nested(2), Deep)).toEqual({ child: { child: {} } });
  });

  test("protobufjs's own failures are CodecErrors with its error as cause", () => {
    const codec = protobufCodec();
    for (const bytes of [[0x08, 0x96], [0x0f], [0x0a, 0x05, 0x00]]) {
      const err = thrownBy(() => codec.decode(new Uint8Array(bytes), Node));
      expect(err.constructor).toBe(CodecError);
      expect(err.message.startsWith('protobuf: ')).toBe(true);
      expect(err.cause).toBeInstanceOf(Error);
    }
  });

  test('limits must be positive integers', () => {
    expect(() => protobufCodec({ maxDepth: 0 })).toThrow(ConfigError);
    expect(() => protobufCodec({ maxObjects: 2.5 })).toThrow(ConfigError);
  });
});
