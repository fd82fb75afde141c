// The page's JSON codec decodes with @rpcx/codec-json's limits (runs under Node: the codec
// uses only TextEncoder / TextDecoder and JSON).
import { CodecError, PayloadTooDeepError, PayloadTooLargeError } from '@rpcx/core';
import { jsonCodec } from '../src/index.js';

const bytes = (s: string) => new TextEncoder().encode(s);

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('the browser JSON codec', () => {
  test('decodes what it encodes; an empty payload is undefined', () => {
    const codec = jsonCodec();
    expect(codec.decode(codec.encode({ A: 1, B: [2, 'x'] }))).toEqual({ A: 1, B: [2, 'x'] });
    expect(codec.decode(new Uint8Array(0))).toBeUndefined();
  });

  test('a reply nested 8 million deep fails at once with PayloadTooDeepError', () => {
    const err = thrown(() => jsonCodec().decode(new Uint8Array(8 * 1024 * 1024).fill(0x5b)));
    expect(err).toBeInstanceOf(PayloadTooDeepError);
    expect(err.message).toBe('json: payload nested deeper than the maxDepth limit of 1000');
  });

  test('the limits are options, as in @rpcx/codec-json', () => {
    const codec = jsonCodec({ maxDepth: 2, maxObjects: 3, maxLength: 64 });
    expect(codec.decode(bytes('[[1],[2]]'))).toEqual([[1], [2]]);
    expect(thrown(() => codec.decode(bytes('[[[1]]]')))).toBeInstanceOf(PayloadTooDeepError);
    expect(thrown(() => codec.decode(bytes('[[],[],[]]')))).toMatchObject({ option: 'maxObjects' });
    expect(thrown(() => codec.decode(bytes(`"${'x'.repeat(70)}"`)))).toBeInstanceOf(PayloadTooLargeError);
  });

  test('invalid JSON is a CodecError with the SyntaxError as cause', () => {
    const err = thrown(() => jsonCodec().decode(bytes('{"A":')));
    expect(err.constructor).toBe(CodecError);
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });
});
