import { CodecError, ConfigError, PayloadTooDeepError, PayloadTooLargeError } from '@rpcx/core';
import { thrownBy } from '@rpcx/core/testing';
import { DEFAULT_JSON_LIMITS, jsonCodec } from '../src/index.js';

const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));


describe('JSON decoding limits', () => {
  test('32 MiB of "[" is refused at once, and the codec goes on', () => {
    const codec = jsonCodec();
    const err = thrownBy(() => codec.decode(new Uint8Array(32 * 1024 * 1024).fill(0x5b)));
    expect(err).toBeInstanceOf(PayloadTooDeepError);
    expect(err).toMatchObject({ code: 'RPCX_ERR_PAYLOAD_TOO_DEEP', limit: 1000 });
    expect(err.message).toBe('json: payload nested deeper than the maxDepth limit of 1000');
    expect(codec.decode(bytesOf('{"A":1,"B":2}'))).toEqual({ A: 1, B: 2 });
  });

  test('maxDepth counts arrays and objects on both parsers; the limit itself is allowed', () => {
    const codec = jsonCodec();
    const deep = (n: number, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);
    expect(codec.decode(bytesOf(deep(DEFAULT_JSON_LIMITS.maxDepth)))).toBeDefined();
    expect(thrownBy(() => codec.decode(bytesOf(deep(DEFAULT_JSON_LIMITS.maxDepth + 1))))).toBeInstanceOf(PayloadTooDeepError);
    // A long integer sends the text to the exact parser, which recurses: the limit keeps it safe.
    const big = '12345678901234567890';
    expect(codec.decode(bytesOf(deep(DEFAULT_JSON_LIMITS.maxDepth, big)))).toBeDefined();
    expect(thrownBy(() => codec.decode(bytesOf(deep(100_000, big))))).toBeInstanceOf(PayloadTooDeepError);

    const shallow = jsonCodec({ maxDepth: 2 });
    expect(shallow.decode(bytesOf('{"a":[1,2]}'))).toEqual({ a: [1, 2] });
    expect(thrownBy(() => shallow.decode(bytesOf('{"a":[{}]}')))).toMatchObject({ limit: 2 });
  });

  test('brackets inside strings do not count, escaped quotes included', () => {
    const shallow = jsonCodec({ maxDepth: 1, maxObjects: 1 });
    const tricky = '{"k":"[[[{{\\"[[[\\\\","x":"]]]\\\\\\"[["}';
    expect(shallow.decode(bytesOf(tricky))).toEqual({ k: '[[[{{"[[[\\', x: ']]]\\"[[' });
    // After an escaped backslash the quote closes the string: the next "[" counts.
    expect(thrownBy(() => shallow.decode(bytesOf('{"k":"\\\\",   "n":[1]}')))).toBeInstanceOf(PayloadTooDeepError);
  });

  test('maxObjects counts arrays and objects, not strings or numbers', () => {
    const codec = jsonCodec({ maxObjects: 10 });
    const list = (n: number, item: string) => `[${Array.from({ length: n }, () => item).join(',')}]`;
    expect(codec.decode(bytesOf(list(9, '{}')))).toHaveLength(9);
    expect(thrownBy(() => codec.decode(bytesOf(list(10, '{}'))))).toMatchObject({ option: 'maxObjects', limit: 10 });
    expect(thrownBy(() => codec.decode(bytesOf(list(10, '[]'))))).toMatchObject({ option: 'maxObjects' });
    expect(codec.decode(bytesOf(list(100, '"x"')))).toHaveLength(100);
  });

  test('the default maxObjects stops 32 MiB of empty objects before they are built', () => {
    const codec = jsonCodec();
    const bomb = bytesOf(`[${'{},'.repeat(11 * 1024 * 1024)}{}]`);
    const heapBefore = process.memoryUsage().heapUsed;
    expect(thrownBy(() => codec.decode(bomb))).toMatchObject({ option: 'maxObjects', limit: DEFAULT_JSON_LIMITS.maxObjects });
    // Built, the 11 million objects would take about 660 MB; the text itself is 32 MB.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(128 * 1024 * 1024);
  });

  test('maxLength refuses a longer payload before reading it', () => {
    const codec = jsonCodec({ maxLength: 10 });
    expect(codec.decode(bytesOf('"12345678"'))).toBe('12345678');
    const err = thrownBy(() => codec.decode(bytesOf('"123456789"')));
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err.message).toBe('json: a payload of 11 bytes is over the maxLength limit of 10');
  });

  test('invalid JSON is a CodecError, over the scan threshold too', () => {
    const codec = jsonCodec();
    const err = thrownBy(() => codec.decode(bytesOf(`[${'1,'.repeat(2000)}`)));
    expect(err.constructor).toBe(CodecError);
    expect(err.message.startsWith('json: ')).toBe(true);
  });

  test('limits must be positive integers', () => {
    expect(() => jsonCodec({ maxDepth: 0 })).toThrow(ConfigError);
    expect(() => jsonCodec({ maxLength: -1 })).toThrow(ConfigError);
  });
});
