// Property-based tests (fast-check): any bytes decode to a value or fail with a CodecError,
// and every value the codec supports survives encode then decode. fast-check prints the seed
// and the shrunk input of a failure.
import fc from 'fast-check';
import { CodecError } from '@rpcx/core';
import { jsonCodec } from '../src/index.js';

const codec = jsonCodec();
/** Small limits, so that the limit checks are reached by generated inputs too. */
const tight = jsonCodec({ maxDepth: 3, maxObjects: 8, maxLength: 200 });

function decodesOrRefuses(c: typeof codec, bytes: Uint8Array): void {
  try {
    c.decode(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(CodecError);
    expect((err as Error).message.startsWith('json: ')).toBe(true);
  }
}

/**
 * JSON values, with integers beyond 2^53 as bigint: a double holding such an integer decodes
 * as a bigint (by design), and -0 is written as 0, so neither is generated.
 */
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0) && (!Number.isInteger(n) || Number.isSafeInteger(n))),
    fc.maxSafeInteger(),
    fc.bigInt({ min: -(1n << 63n), max: -(1n << 53n) }),
    fc.bigInt({ min: 1n << 53n, max: (1n << 64n) - 1n }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** JSON text with a long integer somewhere, so the exact parser runs too. */
const bigText = fc.tuple(fc.json({ maxDepth: 3 }), fc.bigInt({ min: 1n << 60n, max: 1n << 62n })).map(([json, big]) => `[${json},${big}]`);

describe('JSON codec properties', () => {
  test('arbitrary bytes and mutated JSON text: a value or a CodecError, at default and tight limits', () => {
    const mutatedJson = fc
      .tuple(fc.oneof(fc.json({ maxDepth: 4 }), bigText), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...'[]{}",:\\01-e. tfn'.split(''))), { maxLength: 4 }))
      .map(([text, edits]) => {
        const chars = [...text];
        for (const [at, c] of edits) if (chars.length > 0) chars[at % chars.length] = c;
        return new Uint8Array(Buffer.from(chars.join(''), 'utf8'));
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), mutatedJson), (bytes) => {
        decodesOrRefuses(codec, bytes);
        decodesOrRefuses(tight, bytes);
      }),
      { numRuns: 5000 },
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
