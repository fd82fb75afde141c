import { fileURLToPath } from 'node:url';
import { ExtData } from '@msgpack/msgpack';
import { CodecError } from '@rpcx/core';
import { codecCompliance, fromHex, goldenFixtures, hex } from '@rpcx/core/testing';
import { msgpackCodec } from '../src/index.js';

codecCompliance(() => msgpackCodec(), {
  serializeType: 3,
  name: 'msgpack',
  cases: [
    { name: 'Go Args struct', value: { A: 10, B: 20 } },
    { name: 'Go Reply struct', value: { C: 200 } },
    {
      name: 'every kind of value',
      value: { s: 'héllo', n: -1.5, i: -70000, t: true, z: null, b: new Uint8Array([1, 2, 3]), l: [1, 'two', [3]], m: { k: 'v' } },
    },
    { name: '64-bit integers', value: { big: 9007199254740993n, min: -9223372036854775808n, max: 18446744073709551615n, small: 1 } },
    { name: 'time.Time', value: { At: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123)) } },
    { name: 'nil', value: null },
  ],
  garbage: [
    { name: 'never-used byte c1', bytes: fromHex('c1') },
    { name: 'truncated map', bytes: fromHex('82 a1 41 0a a1') },
    { name: 'truncated d3', bytes: fromHex('d3 17 97') },
    { name: 'trailing bytes', bytes: fromHex('0a 0b') },
    { name: 'empty payload', bytes: new Uint8Array(0) },
    { name: 'map with an array key and a d3 in it', bytes: fromHex('81 91 01 d3 00 00 00 00 00 00 00 01') },
  ],
  unencodable: [
    { name: 'bigint beyond uint64', value: { x: 1n << 64n } },
    { name: 'bigint below int64', value: [-(1n << 63n) - 1n] },
    { name: 'a symbol', value: Symbol('x') },
    { name: 'a cycle', value: (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })() },
    { name: 'a cycle holding a bigint', value: (() => { const o: Record<string, unknown> = { n: 1n }; o.self = o; return o; })() },
  ],
});

goldenFixtures(() => msgpackCodec(), fileURLToPath(new URL('./fixtures', import.meta.url)), {
  args: { value: { A: 10, B: 20 }, exactEncode: true },
  reply: { value: { C: 200 }, exactEncode: true },
  'heartbeat-int64': { value: 1700000000000000000n },
});

describe('msgpackCodec encode', () => {
  const codec = msgpackCodec();
  const enc = (v: unknown) => hex(codec.encode(v));

  test('Go vectors: Args{A:10,B:20} and Reply{C:200}', () => {
    expect(enc({ A: 10, B: 20 })).toBe('82a1410aa14214');
    expect(enc({ C: 200 })).toBe('81a143ccc8');
  });

  test('integers take the smallest form; non-integers are float64', () => {
    expect(enc([0, 127, 128, 65535, 65536, 4294967295, 4294967296, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649])).toBe(
      'dc0010' +
        '00' + '7f' + 'cc80' + 'cdffff' + 'ce00010000' + 'ceffffffff' + 'cf0000000100000000' +
        'ff' + 'e0' + 'd0df' + 'd080' + 'd1ff7f' + 'd18000' + 'd2ffff7fff' + 'd280000000' + 'd3ffffffff7fffffff',
    );
    expect(enc(1.5)).toBe('cb3ff8000000000000');
  });

  test('bigint is written as uint64 (cf) when ≥ 0 and int64 (d3) when negative', () => {
    expect(enc(9007199254740993n)).toBe('cf0020000000000001');
    expect(enc(-9223372036854775808n)).toBe('d38000000000000000');
    expect(enc(18446744073709551615n)).toBe('cfffffffffffffffff');
    expect(enc(5n)).toBe('cf0000000000000005');
  });

  test('next to a bigint, numbers keep their integer forms (never float64)', () => {
    // The bigint sends the value down the wide path; 2^32 and -2^31-1 must still be ints there.
    expect(enc([1n, 4294967296, -2147483649, 7, 1.5])).toBe(
      '95' + 'cf0000000000000001' + 'cf0000000100000000' + 'd3ffffffff7fffffff' + '07' + 'cb3ff8000000000000',
    );
  });

  test('bigint outside int64/uint64 is a CodecError, not a silent wrap', () => {
    expect(() => codec.encode({ x: 1n << 64n })).toThrow(CodecError);
    expect(() => codec.encode(-(1n << 63n) - 1n)).toThrow(CodecError);
  });

  test('strings are str, Uint8Array is bin', () => {
    expect(enc('hello')).toBe('a568656c6c6f');
    expect(enc(new Uint8Array([1, 2, 3]))).toBe('c403010203');
    expect(enc(Buffer.from([0xff]))).toBe('c401ff');
    expect(enc('x'.repeat(32))).toBe('d920' + '78'.repeat(32));
  });

  test('keys are written exactly as given (Go matches field names case-sensitively)', () => {
    expect(enc({ FileName: 'a' })).toBe('81a846696c654e616d65a161');
  });

  test('Date is the timestamp extension (-1) Go uses for time.Time', () => {
    expect(enc(new Date(1234567890000))).toBe('d6ff499602d2');
    expect(enc(new Date(1234567890123))).toBe('d7ff1d535300499602d2');
  });

  test('Map is written as a map; with a bigint inside too', () => {
    expect(enc(new Map([['a', 1]]))).toBe('81a16101');
    expect(enc(new Map<string | number, unknown>([['a', 1n], [2, 'x']]))).toBe('82a132a178a161cf0000000000000001');
    expect(() => codec.encode(new Map([[{}, 1]]))).toThrow(CodecError);
  });

  test('undefined is nil, or left out with ignoreUndefined', () => {
    expect(enc({ a: undefined })).toBe('81a161c0');
    expect(hex(msgpackCodec({ ignoreUndefined: true }).encode({ a: undefined, b: 1 }))).toBe('81a16201');
    expect(hex(msgpackCodec({ ignoreUndefined: true }).encode({ a: undefined, b: 1n }))).toBe('81a162cf0000000000000001');
  });

  test('class instances encode their own fields (wide path included)', () => {
    class Point {
      constructor(
        public X: number,
        public Y: bigint,
      ) {}
    }
    expect(enc(new Point(1, 2n))).toBe('82a158' + '01' + 'a159' + 'cf0000000000000002');
  });

  test('a "__proto__" key is kept as a key on the wide path', () => {
    const value = JSON.parse('{"__proto__":1}') as Record<string, unknown>;
    value.n = 1n;
    expect(enc(value)).toBe('82a95f5f70726f746f5f5f01a16ecf0000000000000001');
  });
});

describe('msgpackCodec decode', () => {
  const codec = msgpackCodec();
  const dec = (h: string) => codec.decode(fromHex(h));

  test('reads every integer width Go may write', () => {
    expect(dec('9b 05 cc c8 cd 01 00 ce 00 01 00 00 cf 00 00 00 00 00 00 00 2a fb d0 80 d1 80 00 d2 80 00 00 00 d3 ff ff ff ff ff ff ff fe d3 00 00 00 00 00 00 00 07')).toEqual([
      5, 200, 256, 65536, 42, -5, -128, -32768, -2147483648, -2, 7,
    ]);
  });

  test('d3 from Go: number when safe, bigint beyond ±(2^53 − 1)', () => {
    const small = dec('d3 00 00 00 00 00 00 00 2a');
    expect(small).toBe(42);
    expect(dec('d3 00 1f ff ff ff ff ff ff')).toBe(9007199254740991);
    expect(dec('d3 ff e0 00 00 00 00 00 01')).toBe(-9007199254740991);
    expect(dec('d3 00 20 00 00 00 00 00 01')).toBe(9007199254740993n);
    expect(dec('d3 80 00 00 00 00 00 00 00')).toBe(-9223372036854775808n);
    expect(dec('d3 17 97 9c fe 36 2a 00 00')).toBe(1700000000000000000n);
  });

  test('cf: 2^64 − 1 and 2^53 + 1 come back exact', () => {
    expect(dec('cf ff ff ff ff ff ff ff ff')).toBe(18446744073709551615n);
    expect(dec('cf 00 20 00 00 00 00 00 01')).toBe(9007199254740993n);
  });

  test('narrowing reaches into maps and arrays, and leaves bin/Date alone', () => {
    expect(dec('83 a1 61 91 d3 00 00 00 00 00 00 00 01 a1 62 c4 02 d3 cf a1 63 d6 ff 49 96 02 d2')).toEqual({
      a: [1],
      b: new Uint8Array([0xd3, 0xcf]),
      c: new Date(1234567890000),
    });
  });

  test('int64: "bigint" makes every cf/d3 value a bigint, narrower ints stay numbers', () => {
    const strict = msgpackCodec({ int64: 'bigint' });
    expect(strict.decode(fromHex('92 d3 00 00 00 00 00 00 00 2a d2 00 00 00 2a'))).toEqual([42n, 42]);
    expect(strict.decode(fromHex('2a'))).toBe(42);
  });

  test('integer map keys (Go map[int64]string) become decimal object keys', () => {
    expect(dec('82 d3 00 00 00 00 00 00 00 01 a1 78 cf ff ff ff ff ff ff ff ff a1 79')).toEqual({ 1: 'x', '18446744073709551615': 'y' });
    expect(dec('81 05 a1 7a')).toEqual({ 5: 'z' });
  });

  test('time.Time in all three timestamp sizes', () => {
    expect(dec('d6 ff 49 96 02 d2')).toEqual(new Date(1234567890000));
    // Go keeps nanoseconds; a Date keeps milliseconds.
    expect(dec('d7 ff 1d 6f 34 54 49 96 02 d2')).toEqual(new Date(1234567890123));
    expect(dec('c7 0c ff 00 00 00 00 ff ff ff ff ff ff ff ff')).toEqual(new Date(-1000));
  });

  test('str and bin', () => {
    expect(dec('a5 68 c3 a9 6c 6c')).toBe('héll');
    expect(dec('c4 02 00 ff')).toEqual(new Uint8Array([0, 0xff]));
  });

  test('unknown extensions come back as ExtData and encode again unchanged', () => {
    const value = dec('d4 05 07');
    expect(value).toBeInstanceOf(ExtData);
    expect(hex(codec.encode(value))).toBe('d40507');
  });

  test('64-bit edge values round-trip both ways', () => {
    for (const v of [9007199254740993n, -9223372036854775808n, 18446744073709551615n, 9223372036854775807n]) {
      expect(codec.decode(codec.encode(v))).toBe(v);
    }
    for (const v of [9007199254740991, -9007199254740991, 4294967296, -2147483649]) {
      expect(codec.decode(codec.encode(v))).toBe(v);
    }
  });
});
