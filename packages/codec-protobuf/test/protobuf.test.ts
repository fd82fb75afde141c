import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { CodecError } from '@rpcx/core';
import { codecCompliance, fromHex, goldenFixtures, hex } from '@rpcx/core/testing';
import { protobufCodec } from '../src/index.js';

// keepCase: field names stay as written in the .proto (protobufjs camelCases them by default).
const root = protobuf.parse(
  `syntax = "proto3";
  package rpcx.test;
  enum Color { RED = 0; GREEN = 1; }
  message Inner { string s = 1; int64 n = 2; }
  message ProtoArgs { int32 A = 1; int32 B = 2; }
  message Test1 { int32 a = 1; }
  message Test2 { string b = 2; }
  message Kitchen {
    int32 i32 = 1; int64 i64 = 2; uint64 u64 = 3; sint64 s64 = 4; fixed64 f64 = 5;
    string str = 6; bytes data = 7; Color color = 8; repeated int64 list = 9;
    map<string, int64> m = 10; Inner inner = 11;
    oneof pick { string x = 12; int32 y = 13; }
    double d = 14; bool ok = 15;
  }`,
  { keepCase: true },
).root;
const ProtoArgs = root.lookupType('rpcx.test.ProtoArgs');
const Test1 = root.lookupType('rpcx.test.Test1');
const Test2 = root.lookupType('rpcx.test.Test2');
const Kitchen = root.lookupType('rpcx.test.Kitchen');
const Inner = root.lookupType('rpcx.test.Inner');

/** Shaped like pbjs `static-module` output for `message Small { int32 a = 1; }`. */
class Small {
  a = 0;
  constructor(properties?: { a?: number }) {
    if (properties?.a != null) this.a = properties.a;
  }
  static encode(message: { a?: number }, writer?: protobuf.Writer): protobuf.Writer {
    const w = writer ?? protobuf.Writer.create();
    if (message.a != null && message.a !== 0) w.uint32(8).int32(message.a);
    return w;
  }
  static decode(input: protobuf.Reader | Uint8Array, length?: number): Small {
    const reader = input instanceof protobuf.Reader ? input : protobuf.Reader.create(input);
    const end = length === undefined ? reader.len : reader.pos + length;
    const message = new Small();
    while (reader.pos < end) {
      const tag = reader.uint32();
      if (tag >>> 3 === 1) message.a = reader.int32();
      else reader.skipType(tag & 7);
    }
    return message;
  }
  static fromObject(object: { a?: unknown }): Small {
    if (object instanceof Small) return object;
    return new Small({ a: Number(object.a ?? 0) | 0 });
  }
  static toObject(message: Small): { a: number } {
    return { a: message.a };
  }
}

const kitchenZero = {
  i32: 0, i64: 0n, u64: 0n, s64: 0n, f64: 0n, str: '', data: new Uint8Array(0), color: 0,
  list: [], m: {}, inner: null, d: 0, ok: false,
};
const kitchenFull = {
  i32: -7, i64: -9223372036854775808n, u64: 18446744073709551615n, s64: -1n, f64: 9007199254740993n,
  str: 'héllo', data: new Uint8Array([0, 255]), color: 1, list: [1n, 9007199254740993n],
  m: { k: 5n }, inner: { s: 'x', n: 2n }, y: 3, d: 1.5, ok: true,
};

/**
 * protobufjs makes default `bytes` values with Node's own Buffer, which under jest belongs to
 * another realm than the test's Uint8Array; compare bytes as this realm's Uint8Array.
 */
function normalize(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}
const same = (actual: unknown, expected: unknown) => expect(normalize(actual)).toEqual(normalize(expected));

codecCompliance(() => protobufCodec(), {
  same,
  serializeType: 2,
  name: 'protobuf',
  cases: [
    { name: 'ProtoArgs{A:10,B:20}', value: { A: 10, B: 20 }, schema: ProtoArgs },
    { name: 'Test1{a:150}', value: { a: 150 }, schema: Test1 },
    { name: 'every field kind', value: kitchenFull, schema: Kitchen },
    { name: 'an empty message', value: {}, schema: Kitchen, decoded: kitchenZero },
    { name: 'a static-codegen class', value: { a: 3 }, schema: Small },
  ],
  garbage: [
    { name: 'truncated varint', bytes: fromHex('08 96'), schema: Test1 },
    { name: 'wire type 7', bytes: fromHex('0f'), schema: Test1 },
    { name: 'length beyond the end', bytes: fromHex('12 07 74 65'), schema: Test2 },
  ],
  unencodable: [
    { name: 'a plain object without a schema', value: { a: 1 } },
    { name: 'a bigint beyond uint64', value: { u64: 1n << 64n }, schema: Kitchen },
    { name: 'a string where a message goes', value: { inner: 'x' }, schema: Kitchen },
  ],
});

goldenFixtures(() => protobufCodec(), fileURLToPath(new URL('./fixtures', import.meta.url)), {
  'test1-a-150': { schema: Test1, value: { a: 150 }, exactEncode: true },
  'test2-b-testing': { schema: Test2, value: { b: 'testing' }, exactEncode: true },
}, { same });

describe('protobufCodec encode', () => {
  const codec = protobufCodec();
  const enc = (value: unknown, schema: unknown) => hex(codec.encode(value, schema));

  test('protobuf spec examples: int32 150 is 08 96 01, string "testing" is 12 07 …', () => {
    expect(enc({ a: 150 }, Test1)).toBe('089601');
    expect(enc({ b: 'testing' }, Test2)).toBe('120774657374696e67');
  });

  test('64-bit edge values, as bigint', () => {
    expect(enc({ i64: -9223372036854775808n }, Kitchen)).toBe('1080808080808080808001');
    expect(enc({ u64: 18446744073709551615n }, Kitchen)).toBe('18ffffffffffffffffff01');
    expect(enc({ i64: 9007199254740993n }, Kitchen)).toBe('108180808080808010');
    expect(enc({ s64: -1n }, Kitchen)).toBe('2001');
    expect(enc({ f64: 18446744073709551615n }, Kitchen)).toBe('29ffffffffffffffff');
  });

  test('64-bit fields also take numbers, decimal strings and Long', () => {
    expect(enc({ i64: '9007199254740993' }, Kitchen)).toBe('108180808080808010');
    expect(enc({ i64: 9007199254740991 }, Kitchen)).toBe('10ffffffffffffff0f');
    expect(enc({ i64: new protobuf.util.Long(0, -0x80000000, false) }, Kitchen)).toBe('1080808080808080808001');
  });

  test('a bigint inside a message instance is written, not dropped as 0', () => {
    expect(enc(Kitchen.create({ i64: 9007199254740993n }), Kitchen)).toBe('108180808080808010');
    expect(enc({ inner: Inner.create({ n: 5n }) }, Kitchen)).toBe('5a021005');
  });

  test('a bigint out of range is a CodecError, not a silent wrap', () => {
    expect(() => codec.encode({ i64: -(1n << 63n) - 1n }, Kitchen)).toThrow(CodecError);
    expect(() => codec.encode({ inner: Inner.create({ n: 1n << 64n }) }, Kitchen)).toThrow(CodecError);
    expect(() => codec.encode(Kitchen.create({ u64: 1n << 64n }), Kitchen)).toThrow(CodecError);
  });

  test('a bigint in a 32-bit field is a CodecError naming the field, in a plain object or an instance', () => {
    for (const value of [{ i32: 5n }, Kitchen.create({ i32: 5n as unknown as number })]) {
      let thrown: unknown;
      try {
        codec.encode(value, Kitchen);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(CodecError);
      expect((thrown as Error).message).toBe('protobuf: i32: integer expected');
    }
  });

  test('enums take numbers or names', () => {
    expect(enc({ color: 1 }, Kitchen)).toBe('4001');
    expect(enc({ color: 'GREEN' }, Kitchen)).toBe('4001');
  });

  test('a message instance encodes without a schema (its own type)', () => {
    expect(enc(Test1.create({ a: 150 }), undefined)).toBe('089601');
    expect(enc(new Small({ a: 150 }), undefined)).toBe('089601');
  });

  test('no schema and not a message: Go\'s text', () => {
    expect(() => codec.encode({ a: 1 })).toThrow(new CodecError('Object is not a proto.Marshaler or pb.Message'));
    expect(() => codec.encode(5, Test1)).toThrow(new CodecError('number is not a proto.Marshaler or pb.Message'));
  });

  test('a value fromObject refuses is explained by verify', () => {
    let thrown: unknown;
    try {
      codec.encode({ inner: 5 }, Kitchen);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CodecError);
    expect((thrown as Error).message).toBe('protobuf: inner.object expected');
    expect((thrown as Error).cause).toBeInstanceOf(Error);
  });

  test('verify: true refuses values fromObject would quietly drop', () => {
    expect(enc({ i32: 'x' }, Kitchen)).toBe('');
    expect(() => protobufCodec({ verify: true }).encode({ i32: 'x' }, Kitchen)).toThrow(
      new CodecError('protobuf: i32: integer expected'),
    );
  });
});

describe('protobufCodec decode', () => {
  const dec = (h: string, schema: unknown, codec = protobufCodec()) => codec.decode(fromHex(h), schema);

  test('returns a plain object with zero values filled in, like a Go struct', () => {
    const value = dec('089601', Test1);
    expect(value).toEqual({ a: 150 });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    same(dec('', Kitchen), kitchenZero);
  });

  test('64-bit fields are bigint by default, exact at the edges', () => {
    same(dec('1080808080808080808001 18ffffffffffffffffff01 2001', Kitchen), {
      ...kitchenZero,
      i64: -9223372036854775808n,
      u64: 18446744073709551615n,
      s64: -1n,
    });
    expect((dec('1005', Kitchen) as { i64: unknown }).i64).toBe(5n);
  });

  test('longs: "auto", "string", "number"', () => {
    const payload = '108180808080808010 1805';
    const pick = (codec: ReturnType<typeof protobufCodec>) => {
      const { i64, u64, list } = dec(payload + ' 4a020102', Kitchen, codec) as Record<string, unknown>;
      return { i64, u64, list };
    };
    expect(pick(protobufCodec({ longs: 'auto' }))).toEqual({ i64: 9007199254740993n, u64: 5, list: [1, 2] });
    expect(pick(protobufCodec({ longs: 'string' }))).toEqual({ i64: '9007199254740993', u64: '5', list: ['1', '2'] });
    expect(pick(protobufCodec({ longs: 'number' }))).toEqual({ i64: 9007199254740992, u64: 5, list: [1, 2] });
  });

  test('enums: "string"; defaults: false; oneofs: true', () => {
    expect(dec('4001', Kitchen, protobufCodec({ enums: 'string', defaults: false }))).toEqual({ color: 'GREEN' });
    expect(dec('6803', Kitchen, protobufCodec({ defaults: false, oneofs: true }))).toEqual({ y: 3, pick: 'y' });
  });

  test('toObject: false returns the message instance', () => {
    const message = dec('1005', Kitchen, protobufCodec({ toObject: false }));
    expect(message).toBeInstanceOf(Kitchen.ctor);
  });

  test('a static-codegen class decodes through its toObject', () => {
    expect(dec('089601', Small)).toEqual({ a: 150 });
  });

  test('no schema: Go\'s text, with its two spaces', () => {
    expect(() => protobufCodec().decode(fromHex('089601'))).toThrow(
      new CodecError('undefined is not a proto.Unmarshaler  or pb.Message'),
    );
  });

  test('64-bit edge values round-trip both ways', () => {
    const codec = protobufCodec();
    for (const v of [9007199254740993n, -9223372036854775808n, 9223372036854775807n]) {
      expect((codec.decode(codec.encode({ i64: v }, Kitchen), Kitchen) as { i64: bigint }).i64).toBe(v);
    }
    expect((codec.decode(codec.encode({ u64: 18446744073709551615n }, Kitchen), Kitchen) as { u64: bigint }).u64).toBe(
      18446744073709551615n,
    );
  });
});
