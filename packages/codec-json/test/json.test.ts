import { fileURLToPath } from 'node:url';
import { CodecError } from '@rpcx/core';
import { codecCompliance, goldenFixtures, hex } from '@rpcx/core/testing';
import { jsonCodec } from '../src/index.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

codecCompliance(() => jsonCodec(), {
  serializeType: 1,
  name: 'json',
  cases: [
    { name: 'Go Args struct', value: { A: 10, B: 20 } },
    { name: 'Go Reply struct', value: { C: 200 } },
    { name: 'nested values', value: { s: 'héllo <世界>', list: [1, 2.5, -3, true, null, 'x'], inner: { ok: false } } },
    { name: 'large integers', value: { big: 9007199254740993n, min: -9223372036854775808n, max: 18446744073709551615n } },
    { name: 'null', value: null },
  ],
  garbage: [
    { name: 'truncated object', bytes: bytesOf('{"A":') },
    { name: 'not JSON', bytes: bytesOf('nope') },
    { name: 'empty payload', bytes: new Uint8Array(0) },
    { name: 'invalid UTF-8 only', bytes: new Uint8Array([0xff, 0xfe]) },
    { name: 'trailing comma with a long number', bytes: bytesOf('{"n":12345678901234567890,}') },
    { name: 'unterminated string with a long number', bytes: bytesOf('[12345678901234567890,"abc') },
  ],
  unencodable: [
    { name: 'NaN', value: { x: NaN } },
    { name: 'a cycle', value: (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })() },
  ],
});

goldenFixtures(() => jsonCodec(), fileURLToPath(new URL('./fixtures', import.meta.url)), {
  args: { value: { A: 1, B: 2 }, exactEncode: true },
});

describe('jsonCodec encode (Go encoding/json conventions)', () => {
  const codec = jsonCodec();
  const enc = (v: unknown) => text(codec.encode(v));

  test('Args{A:1,B:2} is exactly the bytes of vector E, no trailing newline', () => {
    expect(hex(codec.encode({ A: 1, B: 2 }))).toBe('7b2241223a312c2242223a327d');
  });

  test('escapes <, > and & like Go, and U+2028/U+2029', () => {
    expect(enc({ s: '<a href="x">&</a>' })).toBe('{"s":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"}');
    expect(enc('\u2028\u2029')).toBe('"\\u2028\\u2029"');
    // Keys too, since Go escapes every string it writes.
    expect(enc({ '<k>': 1 })).toBe('{"\\u003ck\\u003e":1}');
  });

  test('escapeHTML: false keeps <>& but still escapes U+2028', () => {
    const plain = jsonCodec({ escapeHTML: false });
    expect(text(plain.encode({ s: '<&>\u2028' }))).toBe('{"s":"<&>\\u2028"}');
  });

  test('Uint8Array and Buffer become padded standard base64, like Go []byte', () => {
    expect(enc({ Data: new Uint8Array([0, 1, 2, 255]) })).toBe('{"Data":"AAEC/w=="}');
    expect(enc(Buffer.from('hi'))).toBe('"aGk="');
    // Only the view's bytes, not its whole backing buffer.
    const backing = new Uint8Array([9, 9, 0xfb, 0xff, 9]);
    expect(enc(backing.subarray(2, 4))).toBe('"+/8="');
    expect(enc(new Uint8Array(0))).toBe('""');
  });

  test('other typed arrays are arrays, as Go []int8 / []float64 are', () => {
    expect(enc(new Int8Array([1, -1]))).toBe('[1,-1]');
    expect(enc(new Float64Array([0.5]))).toBe('[0.5]');
  });

  test('bigint is written as exact JSON number digits', () => {
    expect(enc({ a: 9007199254740993n, b: -9223372036854775808n, c: 18446744073709551615n, d: 0n })).toBe(
      '{"a":9007199254740993,"b":-9223372036854775808,"c":18446744073709551615,"d":0}',
    );
  });

  test('Map becomes an object (Go map), Set an array, Date its ISO text', () => {
    expect(enc(new Map<unknown, unknown>([['k', 1], [2, 'two']]))).toBe('{"k":1,"2":"two"}');
    expect(enc({ s: new Set(['a', 'b']) })).toBe('{"s":["a","b"]}');
    expect(enc({ t: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) })).toBe('{"t":"2024-01-02T03:04:05.006Z"}');
  });

  test('undefined: null at the top, left out of objects, null in arrays', () => {
    expect(enc(undefined)).toBe('null');
    expect(enc({ a: undefined, b: 1, f: () => 1 })).toBe('{"b":1}');
    expect(enc([undefined, 1])).toBe('[null,1]');
  });

  test('class instances use their own enumerable fields, as Go structs use exported ones', () => {
    class Args {
      constructor(
        public A: number,
        public B: bigint,
      ) {}
    }
    expect(enc(new Args(1, 2n))).toBe('{"A":1,"B":2}');
  });

  test('UTF-8 is written raw, as Go does', () => {
    expect(hex(codec.encode('é世'))).toBe('22c3a9e4b89622');
  });

  test('NaN and Infinity throw with Go text', () => {
    expect(() => codec.encode({ x: NaN })).toThrow(new CodecError('json: unsupported value: NaN'));
    expect(() => codec.encode([Infinity])).toThrow('json: unsupported value: +Inf');
    expect(() => codec.encode(-Infinity)).toThrow('json: unsupported value: -Inf');
  });

  test('a cycle throws a CodecError instead of overflowing the stack', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(() => codec.encode(a)).toThrow(CodecError);
  });
});

describe('jsonCodec decode', () => {
  const codec = jsonCodec();
  const dec = (s: string) => codec.decode(bytesOf(s));

  test('integers beyond 2^53 come back as exact bigint, smaller ones as number', () => {
    expect(dec('{"a":9007199254740993,"b":-9223372036854775808,"c":18446744073709551615}')).toEqual({
      a: 9007199254740993n,
      b: -9223372036854775808n,
      c: 18446744073709551615n,
    });
    const r = dec('[9007199254740991,-9007199254740991,9007199254740992,1234567890123456]') as unknown[];
    expect(r).toEqual([9007199254740991, -9007199254740991, 9007199254740992n, 1234567890123456]);
    expect(typeof r[0]).toBe('number');
    expect(typeof r[3]).toBe('number');
  });

  test('numbers with a fraction or exponent stay numbers, however long', () => {
    expect(dec('[3.14159265358979323846,12345678901234567890e0,-0]')).toEqual([Math.PI, 12345678901234567890, -0]);
  });

  test('long digit runs inside strings do not change strings', () => {
    expect(dec('{"id":"12345678901234567890","esc":"q\\"\\\\\\u00e9\\n","n":12345678901234567890}')).toEqual({
      id: '12345678901234567890',
      esc: 'q"\\é\n',
      n: 12345678901234567890n,
    });
  });

  test('the exact path parses the whole grammar like JSON.parse', () => {
    const source = ' { "a" : [ true , false , null , { } , [ ] , -1.5e3 , "" ] , "b" : { "c" : 11111111111111111111 } } ';
    const value = dec(source) as { a: unknown[]; b: { c: unknown } };
    expect(value.a).toEqual(JSON.parse(source).a);
    expect(value.b.c).toBe(11111111111111111111n);
  });

  test('"__proto__" stays an own key on the exact path, as with JSON.parse', () => {
    const value = dec('{"__proto__":{"polluted":1},"n":12345678901234567890}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(value)).toEqual(['__proto__', 'n']);
  });

  test('largeIntegers: "string" and "number"', () => {
    const source = bytesOf('{"a":18446744073709551615,"b":7}');
    expect(jsonCodec({ largeIntegers: 'string' }).decode(source)).toEqual({ a: '18446744073709551615', b: 7 });
    expect(jsonCodec({ largeIntegers: 'number' }).decode(source)).toEqual({ a: 18446744073709552000, b: 7 });
  });

  test('base64 from Go []byte stays a string (no schema to say otherwise)', () => {
    expect(dec('{"Data":"AAEC/w=="}')).toEqual({ Data: 'AAEC/w==' });
  });

  test('keys keep the sender\'s spelling', () => {
    expect(dec('{"FileName":"a","fileName":"b"}')).toEqual({ FileName: 'a', fileName: 'b' });
  });

  test('errors are CodecErrors caused by a SyntaxError on both paths', () => {
    for (const source of [
      '{"a":1',
      '{"a":12345678901234567890',
      '[12345678901234567890]x',
      '{"a" 12345678901234567890}',
      '[01234567890123456789]',
      '["tab\there",12345678901234567890]',
    ]) {
      let thrown: unknown;
      try {
        dec(source);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(CodecError);
      expect((thrown as CodecError).cause).toBeInstanceOf(SyntaxError);
      expect((thrown as CodecError).message).toBe(`json: ${((thrown as CodecError).cause as Error).message}`);
    }
  });
});
