import { CodecError, ConfigError, PayloadTooDeepError, PayloadTooLargeError } from '@rpcx/core';
import { fromHex, thrownBy } from '@rpcx/core/testing';
import { DEFAULT_MSGPACK_LIMITS, msgpackCodec } from '../src/index.js';


/** `depth` arrays nested in each other around `inner`. */
const nested = (depth: number, inner = 0x01) => {
  const bytes = new Uint8Array(depth + 1).fill(0x91);
  bytes[depth] = inner;
  return bytes;
};

/** An array32 header for `count` elements followed by `count` copies of `element`. */
function flatArray(count: number, element: number[]): Uint8Array {
  const bytes = new Uint8Array(5 + count * element.length);
  bytes[0] = 0xdd;
  new DataView(bytes.buffer).setUint32(1, count);
  for (let i = 0, at = 5; i < count; i++, at += element.length) bytes.set(element, at);
  return bytes;
}

describe('msgpack decoding limits', () => {
  test('32 MiB of 0x91 (arrays nested 33 million deep) is refused at once, and the codec goes on', () => {
    const codec = msgpackCodec();
    const bomb = new Uint8Array(32 * 1024 * 1024).fill(0x91);
    const heapBefore = process.memoryUsage().heapUsed;
    const err = thrownBy(() => codec.decode(bomb));
    expect(err).toBeInstanceOf(PayloadTooDeepError);
    expect(err).toBeInstanceOf(CodecError);
    expect(err).toMatchObject({ code: 'RPCX_ERR_PAYLOAD_TOO_DEEP', limit: 1000 });
    expect(err.message).toBe('msgpack: payload nested deeper than the maxDepth limit of 1000');
    // Refused by the scan, before the decoder built anything.
    // Built, the arrays or maps would take gigabytes; the bound leaves room for the rest of the run.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(codec.decode(codec.encode({ A: 10, B: 20 }))).toEqual({ A: 10, B: 20 });
  });

  test('maxDepth counts arrays and maps; the limit itself is allowed', () => {
    const codec = msgpackCodec();
    expect(codec.decode(nested(DEFAULT_MSGPACK_LIMITS.maxDepth))).toBeDefined();
    expect(thrownBy(() => codec.decode(nested(DEFAULT_MSGPACK_LIMITS.maxDepth + 1)))).toBeInstanceOf(PayloadTooDeepError);

    const shallow = msgpackCodec({ maxDepth: 3 });
    expect(shallow.decode(codec.encode({ a: [{ b: 1 }] }))).toEqual({ a: [{ b: 1 }] });
    expect(shallow.decode(codec.encode({ a: [[]] }))).toEqual({ a: [[]] }); // an empty array is a level too
    expect(thrownBy(() => shallow.decode(codec.encode({ a: [{ b: [] }] })))).toMatchObject({ limit: 3 });
    // A map as a value and as a key both nest.
    expect(thrownBy(() => shallow.decode(fromHex('81 a1 61 81 a1 62 81 a1 63 80')))).toBeInstanceOf(PayloadTooDeepError);
    expect(thrownBy(() => shallow.decode(fromHex('91 91 91 91 01')))).toBeInstanceOf(PayloadTooDeepError);
  });

  test.each([
    ['maxStringLength', { A: 'x'.repeat(9) }, 'a string of 9 bytes'],
    ['maxStringLength', { ['k'.repeat(9)]: 1 }, 'a string of 9 bytes'], // map keys too
    ['maxBinaryLength', { A: new Uint8Array(9) }, 'a binary of 9 bytes'],
    ['maxArrayLength', { A: Array.from({ length: 9 }, (_, i) => i) }, 'an array of 9 elements'],
    ['maxMapLength', Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, i])), 'a map of 9 entries'],
    ['maxExtLength', { A: new Date(Date.UTC(1960, 0, 1)) }, 'an extension value of 12 bytes'], // a timestamp96
  ] as const)('%s: over it is a PayloadTooLargeError naming the option', (option, value, what) => {
    const plain = msgpackCodec();
    const bytes = plain.encode(value);
    const limit = what.includes('12 bytes') ? 11 : 8;
    const err = thrownBy(() => msgpackCodec({ [option]: limit }).decode(bytes));
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err).toMatchObject({ code: 'RPCX_ERR_PAYLOAD_TOO_LARGE', option, limit });
    expect(err.message).toBe(`msgpack: ${what} is over the ${option} limit of ${limit}`);
    // At the limit it decodes.
    expect(msgpackCodec({ [option]: limit + 1 }).decode(bytes)).toEqual(value);
  });

  test('str8/16/32, bin16/32, array16, map16/32 and ext8/16/32 headers are all checked', () => {
    const tiny = msgpackCodec({ maxStringLength: 2, maxBinaryLength: 2, maxArrayLength: 2, maxMapLength: 1, maxExtLength: 2 });
    const cases: Array<[string, string]> = [
      ['d9 03 616263', 'maxStringLength'],
      ['da 0003 616263', 'maxStringLength'],
      ['db 00000003 616263', 'maxStringLength'],
      ['c4 03 010203', 'maxBinaryLength'],
      ['c5 0003 010203', 'maxBinaryLength'],
      ['c6 00000003 010203', 'maxBinaryLength'],
      ['dc 0003 010203', 'maxArrayLength'],
      ['dd 00000003 010203', 'maxArrayLength'],
      ['de 0002 01 01 02 02', 'maxMapLength'],
      ['df 00000002 01 01 02 02', 'maxMapLength'],
      ['c7 03 05 010203', 'maxExtLength'],
      ['c8 0003 05 010203', 'maxExtLength'],
      ['c9 00000003 05 010203', 'maxExtLength'],
      ['d6 05 01020304', 'maxExtLength'], // fixext4
    ];
    for (const [bytes, option] of cases) {
      expect([bytes, thrownBy(() => tiny.decode(fromHex(bytes)))]).toEqual([bytes, expect.objectContaining({ option })]);
    }
  });

  test('maxObjects bounds the JS objects one payload becomes: arrays, maps, binaries, extension values', () => {
    const codec = msgpackCodec({ maxObjects: 10 });
    // The outer array is an object too: 9 inner ones make 10.
    for (const element of [[0x90], [0x80], [0xc4, 0x00], [0xd4, 0x05, 0x00]]) {
      expect(codec.decode(flatArray(9, element))).toHaveLength(9);
      expect(thrownBy(() => codec.decode(flatArray(10, element)))).toMatchObject({ option: 'maxObjects', limit: 10 });
    }
    // Numbers and strings are not objects.
    expect(codec.decode(flatArray(100, [0xa1, 0x61]))).toHaveLength(100);
  });

  test('the default maxObjects stops 32 MiB of empty maps before they are built', () => {
    const codec = msgpackCodec();
    const bomb = flatArray(32 * 1024 * 1024, [0x80]);
    const heapBefore = process.memoryUsage().heapUsed;
    expect(thrownBy(() => codec.decode(bomb))).toMatchObject({ option: 'maxObjects', limit: DEFAULT_MSGPACK_LIMITS.maxObjects });
    // Built, the arrays or maps would take gigabytes; the bound leaves room for the rest of the run.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  test('a header announcing more than the bytes left fails before anything is allocated for it', () => {
    const codec = msgpackCodec();
    // The library alone would allocate a 16-million-slot array for these 5 bytes.
    for (const bytes of ['dd 00ffffff', 'df 00ffffff', 'db 00ffffff', 'c6 00ffffff', 'c9 00ffffff 05', '92 01', 'd8 05 0102']) {
      const err = thrownBy(() => codec.decode(fromHex(bytes)));
      expect([bytes, err.constructor.name, err.message]).toEqual([bytes, 'CodecError', expect.stringMatching(/^msgpack: .* needs \d+ byte\(s\) but only \d+ are left$/)]);
    }
  });

  test("the decoder's own failures are CodecErrors keeping the library's error as cause", () => {
    const codec = msgpackCodec();
    for (const bytes of ['c1', '0a 0b', '']) {
      const err = thrownBy(() => codec.decode(fromHex(bytes)));
      expect(err.constructor).toBe(CodecError);
      expect(err).toMatchObject({ code: 'RPCX_ERR_CODEC' });
      expect(err.message.startsWith('msgpack: ')).toBe(true);
      expect(err.cause).toBeInstanceOf(Error);
    }
    // A map key no object can have is refused by the codec itself.
    const arrayKey = thrownBy(() => codec.decode(fromHex('81 91 01 02')));
    expect(arrayKey.constructor).toBe(CodecError);
    expect(arrayKey.message).toBe('msgpack: map key of type object cannot become an object key');
  });

  test('limits must be positive integers', () => {
    expect(() => msgpackCodec({ maxDepth: 0 })).toThrow(ConfigError);
    expect(() => msgpackCodec({ maxObjects: 1.5 })).toThrow(ConfigError);
    expect(() => msgpackCodec({ maxStringLength: Number.POSITIVE_INFINITY })).toThrow(ConfigError);
  });
});
