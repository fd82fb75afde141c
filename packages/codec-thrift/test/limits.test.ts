import { CodecError, ConfigError, PayloadTooDeepError, PayloadTooLargeError } from '@rpcx/core';
import { fromHex, thrownBy } from '@rpcx/core/testing';
import { DEFAULT_THRIFT_LIMITS, thriftCodec } from '../src/index.js';
import { Chain, Kitchen, ThriftArgs } from './structs.js';


/** Chain { 1: Chain next } nested `depth` structs deep (the top-level struct is depth 1). */
const chain = (depth: number) => fromHex('0c0001'.repeat(depth - 1) + '00'.repeat(depth));

/** A struct whose field 99 (unknown to every struct here) is a list of `count` `element`s. */
function unknownList(type: number, count: number, element: string): Uint8Array {
  const size = count.toString(16).padStart(8, '0');
  return fromHex(`0f 0063 ${type.toString(16).padStart(2, '0')} ${size} ${element.repeat(count)} 00`);
}

describe('thrift decoding limits', () => {
  test('64 structs deep decode; 65 are a PayloadTooDeepError, for code that never counts depth too', () => {
    const codec = thriftCodec();
    expect(codec.decode(chain(DEFAULT_THRIFT_LIMITS.maxDepth), Chain)).toBeInstanceOf(Chain);
    const err = thrownBy(() => codec.decode(chain(DEFAULT_THRIFT_LIMITS.maxDepth + 1), Chain));
    expect(err).toBeInstanceOf(PayloadTooDeepError);
    expect(err.message).toBe('thrift: payload nested deeper than the maxDepth limit of 64');
    // ThriftArgs is in the pre-0.21 shape (no incrementRecursionDepth): skipping counts too.
    expect(thrownBy(() => codec.decode(fromHex('0c0063' + '0c0001'.repeat(70) + '00'.repeat(72)), ThriftArgs))).toBeInstanceOf(
      PayloadTooDeepError,
    );
  });

  test('lists, sets and maps are levels too, read or skipped', () => {
    const codec = thriftCodec({ maxDepth: 3 });
    // Struct > list<list<i32>> > list<i32>: depth 3.
    const nestedLists = fromHex('0f 0063 0f 00000001 08 00000001 00000007 00');
    expect(codec.decode(nestedLists, ThriftArgs)).toBeInstanceOf(ThriftArgs);
    const deeper = fromHex('0f 0063 0f 00000001 0f 00000001 08 00000001 00000007 00');
    expect(thrownBy(() => codec.decode(deeper, ThriftArgs))).toMatchObject({ limit: 3 });
    const maps = fromHex('0d 0063 08 0d 00000001 00000001 08 08 00000001 00000002 00000003 00');
    expect(codec.decode(maps, ThriftArgs)).toBeInstanceOf(ThriftArgs);
    expect(thrownBy(() => thriftCodec({ maxDepth: 2 }).decode(maps, ThriftArgs))).toBeInstanceOf(PayloadTooDeepError);
  });

  test('maxObjects counts structs, containers, binaries and Int64s; 32 MiB of empty structs stop early', () => {
    const codec = thriftCodec({ maxObjects: 12 });
    // The top-level struct and the list are 2 objects: 10 more fit.
    expect(codec.decode(unknownList(12, 10, '00'), ThriftArgs)).toBeInstanceOf(ThriftArgs);
    expect(thrownBy(() => codec.decode(unknownList(12, 11, '00'), ThriftArgs))).toMatchObject({ option: 'maxObjects', limit: 12 });
    // Kitchen field 8 (binary) and 5 (i64) make objects; strings (7) do not. 11 fit with the struct.
    expect(codec.decode(fromHex('0b0008 00000000 '.repeat(11) + '00'), Kitchen)).toBeInstanceOf(Kitchen);
    const binaries = fromHex('0b0008 00000000 '.repeat(12) + '00');
    expect(thrownBy(() => codec.decode(binaries, Kitchen))).toMatchObject({ option: 'maxObjects' });
    const longs = fromHex('0a0005 0000000000000001 '.repeat(12) + '00');
    expect(thrownBy(() => codec.decode(longs, Kitchen))).toMatchObject({ option: 'maxObjects' });
    expect(thriftCodec({ maxObjects: 12, i64: 'bigint' }).decode(longs, Kitchen)).toBeInstanceOf(Kitchen);
    expect(codec.decode(fromHex('0b0007 00000000 '.repeat(100) + '00'), Kitchen)).toBeInstanceOf(Kitchen);

    const bomb = unknownList(12, 32 * 1024 * 1024 - 16, '00');
    const heapBefore = process.memoryUsage().heapUsed;
    expect(thrownBy(() => thriftCodec().decode(bomb, ThriftArgs))).toMatchObject({ option: 'maxObjects', limit: DEFAULT_THRIFT_LIMITS.maxObjects });
    // Built, they would take over a GB; the bound leaves room for the rest of the test run.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  test('maxStringLength and maxContainerLength name what was too long', () => {
    const codec = thriftCodec({ maxStringLength: 3, maxContainerLength: 2 });
    expect(codec.decode(fromHex('0b0007 00000003 616263 00'), Kitchen)).toMatchObject({ str: 'abc' });
    const cases: Array<[string, string, string]> = [
      ['0b0007 00000004 61626364 00', 'a string of 4 bytes', 'maxStringLength'],
      ['0b0008 00000004 61626364 00', 'a binary of 4 bytes', 'maxStringLength'],
      ['0f0009 08 00000003 000000010000000200000003 00', 'a list of 3 elements', 'maxContainerLength'],
      ['0e000b 0b 00000003 00000000 00000000 00000000 00', 'a set of 3 elements', 'maxContainerLength'],
      ['0d000a 0b0a 00000003 ' + '00000000 0000000000000000 '.repeat(3) + '00', 'a map of 3 entries', 'maxContainerLength'],
    ];
    for (const [bytes, what, option] of cases) {
      const err = thrownBy(() => codec.decode(fromHex(bytes), Kitchen));
      expect(err).toBeInstanceOf(PayloadTooLargeError);
      expect(err.message).toBe(`thrift: ${what} is over the ${option} limit of ${option === 'maxStringLength' ? 3 : 2}`);
    }
  });

  test('a malformed payload is a CodecError, worded by the reader', () => {
    const err = thrownBy(() => thriftCodec().decode(fromHex('08 00 01 00 00'), ThriftArgs));
    expect(err.constructor).toBe(CodecError);
    expect(err.message).toMatch(/^thrift: unexpected end of data/);
  });

  test('limits must be positive integers', () => {
    expect(() => thriftCodec({ maxDepth: 0 })).toThrow(ConfigError);
    expect(() => thriftCodec({ maxContainerLength: 0.5 })).toThrow(ConfigError);
  });
});
