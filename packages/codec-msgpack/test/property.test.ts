// Property-based tests (fast-check): any bytes decode to a value or fail with a CodecError,
// and every value the codec supports survives encode then decode. fast-check prints the seed
// and the shrunk input of a failure.
import fc from 'fast-check';
import { CodecError } from '@rpcx/core';
import { msgpackCodec } from '../src/index.js';

const codec = msgpackCodec();
/** Small limits, so that the limit checks are reached by generated inputs too. */
const tight = msgpackCodec({ maxDepth: 4, maxObjects: 16, maxStringLength: 8, maxBinaryLength: 8, maxArrayLength: 8, maxMapLength: 8, maxExtLength: 8 });

function decodesOrRefuses(c: typeof codec, bytes: Uint8Array): void {
  try {
    c.decode(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(CodecError);
    expect((err as Error).message.startsWith('msgpack: ')).toBe(true);
  }
}

/** Every msgpack type byte followed by random bytes: reaches each header kind. */
const headed = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 })).map(([head, rest]) => new Uint8Array([head, ...rest]));

/** Values the codec round-trips exactly (see the README's encoding table). */
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    // Not -0: it is written as the integer 0.
    fc.double({ noDefaultInfinity: false }).filter((n) => !Object.is(n, -0)),
    fc.bigInt({ min: -(1n << 63n), max: -(1n << 53n) }),
    fc.bigInt({ min: 1n << 53n, max: (1n << 64n) - 1n }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.uint8Array({ maxLength: 32 }),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('msgpack codec properties', () => {
  test('arbitrary bytes: a value or a CodecError, at the default limits and at tight ones', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), headed), (bytes) => {
        decodesOrRefuses(codec, bytes);
        decodesOrRefuses(tight, bytes);
      }),
      { numRuns: 5000 },
    );
  });

  test('encoded values with bytes changed: a value or a CodecError', () => {
    fc.assert(
      fc.property(value, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (v, edits) => {
        const bytes = Uint8Array.from(codec.encode(v));
        for (const [at, b] of edits) if (bytes.length > 0) bytes[at % bytes.length] = b;
        decodesOrRefuses(codec, bytes);
        decodesOrRefuses(tight, bytes);
      }),
      { numRuns: 2000 },
    );
  });

  test('encode then decode gives the value back', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(codec.decode(codec.encode(v))).toEqual(v);
      }),
      { numRuns: 1000 },
    );
  });
});
