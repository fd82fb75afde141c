// protobuf-es v2 message schemas (protoc-gen-es output) in the codec: the same bytes as the
// protobufjs schema of the same .proto, the golden spec payloads, and the decoding limits.
import { readFileSync } from 'node:fs';
import { create, isMessage } from '@bufbuild/protobuf';
import { CodecError, PayloadTooDeepError, PayloadTooLargeError } from '@rpcx/core';
import protobuf from 'protobufjs';
import { DEFAULT_PROTOBUF_LIMITS, protobufCodec } from '../src/index.js';
import { Color, InnerSchema, KitchenSchema, NodeSchema, ProtoArgsSchema, Test1Schema, Test2Schema } from './gen/codec_test_pb.js';

const protoFile = new URL('./proto/codec_test.proto', import.meta.url);
/** The same .proto through protobufjs, field names as written. */
const root = protobuf.parse(readFileSync(protoFile, 'utf8'), { keepCase: true }).root;
const Kitchen = root.lookupType('rpcx.test.Kitchen');

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const fixture = (name: string) =>
  fromHex(
    readFileSync(new URL(`./fixtures/${name}.hex`, import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join(''),
  );

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

const codec = protobufCodec();

/** Every field kind set, one map entry (protobuf-es and protobufjs both write maps in key order). */
const kitchenEs = {
  i32: -7, i64: -9223372036854775808n, u64: 18446744073709551615n, s64: -1n, f64: 9007199254740993n,
  str: 'héllo', data: new Uint8Array([0, 255]), color: Color.GREEN, list: [1n, 9007199254740993n],
  m: { k: 5n }, inner: { s: 'x', n: 2n }, pick: { case: 'y' as const, value: 3 }, d: 1.5, ok: true,
};
const kitchenJs = { ...kitchenEs, pick: undefined, y: 3 };

describe('protobuf-es schemas', () => {
  test('the golden spec payloads, byte for byte both ways', () => {
    expect(hex(codec.encode({ a: 150 }, Test1Schema))).toBe(hex(fixture('test1-a-150')));
    expect(hex(codec.encode({ b: 'testing' }, Test2Schema))).toBe(hex(fixture('test2-b-testing')));
    expect(codec.decode(fixture('test1-a-150'), Test1Schema)).toMatchObject({ $typeName: 'rpcx.test.Test1', a: 150 });
    expect(codec.decode(fixture('test2-b-testing'), Test2Schema)).toMatchObject({ b: 'testing' });
  });

  test('every field kind: the same bytes as the protobufjs schema of the same .proto', () => {
    const es = codec.encode(kitchenEs, KitchenSchema);
    expect(hex(es)).toBe(hex(codec.encode(kitchenJs, Kitchen)));
    expect(hex(es)).toBe(
      '08f9ffffffffffffffff01' + '1080808080808080808001' + '18ffffffffffffffffff01' + '2001' + '290100000000002000' +
        '320668c3a96c6c6f' + '3a0200ff' + '4001' + '4a09018180808080808010' + '52050a016b1005' + '5a050a01781002' + '6803' + '71000000000000f83f' +
        '7801',
    );
    // And each decodes the other's bytes to the same values.
    expect(codec.decode(codec.encode(kitchenJs, Kitchen), KitchenSchema)).toEqual(create(KitchenSchema, kitchenEs));
    expect(codec.decode(es, Kitchen)).toMatchObject({ i64: kitchenEs.i64, u64: kitchenEs.u64, y: 3, m: { k: 5n } });
  });

  test('decode returns a protobuf-es message: $typeName, bigint 64-bit fields, oneof as { case, value }', () => {
    const message = codec.decode(codec.encode(kitchenEs, KitchenSchema), KitchenSchema);
    expect(isMessage(message, KitchenSchema)).toBe(true);
    expect(message).toMatchObject({ i64: -9223372036854775808n, color: Color.GREEN, pick: { case: 'y', value: 3 } });
    expect(isMessage((message as { inner: unknown }).inner, InnerSchema)).toBe(true);
    // The protobufjs options do not apply: protobuf-es decides the shape.
    expect(protobufCodec({ longs: 'string', enums: 'string' }).decode(fromHex('1005 4001'), KitchenSchema)).toMatchObject({ i64: 5n, color: 1 });
  });

  test('encode takes a message made with create() or a plain init object, to the same bytes', () => {
    const init = { A: 10, B: 20 };
    expect(hex(codec.encode(create(ProtoArgsSchema, init), ProtoArgsSchema))).toBe('080a1014');
    expect(hex(codec.encode(init, ProtoArgsSchema))).toBe('080a1014');
    expect(hex(codec.encode({}, ProtoArgsSchema))).toBe('');
  });

  test('unknown fields are dropped on decode, as protobufjs drops them', () => {
    const message = codec.decode(fromHex('089601 f80701'), Test1Schema);
    expect(hex(codec.encode(message, Test1Schema))).toBe('089601');
  });

  test('values the schema cannot take are refused with an Error', () => {
    expect(() => codec.encode(5, Test1Schema)).toThrow(new CodecError('number is not a proto.Marshaler or pb.Message'));
    expect(() => codec.encode({ a: 'x' }, Test1Schema)).toThrow(Error);
    expect(() => codec.encode({ i64: 1n << 64n }, KitchenSchema)).toThrow(Error);
  });

  test('malformed payloads are CodecErrors with protobuf-es\'s error as cause, and the codec goes on', () => {
    for (const bytes of ['0896', '0f', '1207 7465']) {
      const err = thrown(() => codec.decode(fromHex(bytes), bytes.startsWith('12') ? Test2Schema : Test1Schema));
      expect(err.constructor).toBe(CodecError);
      expect(err.message.startsWith('protobuf: ')).toBe(true);
      expect(err.cause).toBeInstanceOf(Error);
    }
    expect(codec.decode(fromHex('089601'), Test1Schema)).toMatchObject({ a: 150 });
  });
});

describe('protobuf-es schemas: decoding limits', () => {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
    out.push(n);
    return out;
  };
  /** `depth` Node messages nested through field 1 (`child`). */
  function nested(depth: number): Uint8Array {
    const lengths = [0];
    for (let i = 1; i < depth; i++) lengths.push(1 + varint(lengths[i - 1]).length + lengths[i - 1]);
    const bytes: number[] = [];
    for (let i = depth - 1; i >= 0; i--) bytes.push(0x0a, ...varint(lengths[i]));
    return new Uint8Array(bytes);
  }
  const repeated = (count: number, field: number[]) => new Uint8Array(Array.from({ length: count }, () => field).flat());

  test('maxDepth levels decode (protobuf-es\'s own limit is raised to match); one more is a PayloadTooDeepError', () => {
    const max = DEFAULT_PROTOBUF_LIMITS.maxDepth;
    expect(codec.decode(nested(max), NodeSchema)).toMatchObject({ child: { child: {} } });
    const err = thrown(() => codec.decode(nested(max + 1), NodeSchema));
    expect(err).toBeInstanceOf(PayloadTooDeepError);
    expect(thrown(() => codec.decode(nested(1_000_000), NodeSchema))).toBeInstanceOf(PayloadTooDeepError);
    const deeper = protobufCodec({ maxDepth: 300 });
    expect(deeper.decode(nested(300), NodeSchema)).toMatchObject({ child: {} });
    expect(thrown(() => protobufCodec({ maxDepth: 2 }).decode(nested(3), NodeSchema))).toMatchObject({ limit: 2 });
  });

  test('maxObjects counts each message with its arrays and maps, bytes and 64-bit integers', () => {
    // A protobuf-es Node is one object plus [] for kids and ns and {} for m: 4.
    const limited = protobufCodec({ maxObjects: 4 + 4 * 10 });
    const kids = (n: number) => repeated(n, [0x12, 0x00]);
    expect((limited.decode(kids(10), NodeSchema) as { kids: unknown[] }).kids).toHaveLength(10);
    const err = thrown(() => limited.decode(kids(11), NodeSchema));
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err).toMatchObject({ option: 'maxObjects', limit: 44 });
    const few = protobufCodec({ maxObjects: 4 + 10 });
    expect(few.decode(repeated(10, [0x20, 0x01]), NodeSchema)).toBeDefined();
    expect(thrown(() => few.decode(repeated(11, [0x20, 0x01]), NodeSchema))).toMatchObject({ option: 'maxObjects' });
  });

  test('the default maxObjects stops 32 MiB of empty messages before they are built', () => {
    const bomb = new Uint8Array(32 * 1024 * 1024);
    for (let i = 0; i < bomb.length; i += 2) bomb[i] = 0x12;
    expect(thrown(() => codec.decode(bomb, NodeSchema))).toMatchObject({ option: 'maxObjects' });
  });

  test('maxLength', () => {
    expect(thrown(() => protobufCodec({ maxLength: 4 }).decode(new Uint8Array(5), NodeSchema))).toMatchObject({ option: 'maxLength', limit: 4 });
  });
});
