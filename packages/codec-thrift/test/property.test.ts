// Property-based tests (fast-check): any bytes decode to a struct or fail with a CodecError,
// and every struct survives encode then decode. fast-check prints the seed and the shrunk
// input of a failure.
import fc from 'fast-check';
import { CodecError } from '@rpcx/core';
import { thriftCodec } from '../src/index.js';
import { Chain, Inner, Kitchen, ThriftArgs } from './structs.js';

const codec = thriftCodec({ i64: 'bigint' });
/** Small limits, so that the limit checks are reached by generated inputs too. */
const tight = thriftCodec({ maxDepth: 3, maxObjects: 8, maxStringLength: 8, maxContainerLength: 4 });
const schemas = [Kitchen, Chain, ThriftArgs];

function decodesOrRefuses(c: typeof codec, bytes: Uint8Array): void {
  for (const schema of schemas) {
    try {
      c.decode(bytes, schema);
    } catch (err) {
      expect(err).toBeInstanceOf(CodecError);
      expect((err as Error).message.startsWith('thrift: ')).toBe(true);
    }
  }
}

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

/** Every field of Kitchen set (a struct whose fields are all null encodes to just a stop byte). */
const kitchen = fc.record({
  b: fc.boolean(),
  y: fc.integer({ min: -128, max: 127 }),
  s16: fc.integer({ min: -32768, max: 32767 }),
  s32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  s64: int64,
  d: fc.double(),
  str: text,
  bin: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
  li: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 5 }),
  // Not `__proto__`: the generated-style struct reads maps into `{}` as thrift's own JS
  // generator does, where that key sets the prototype instead of an entry.
  m: fc.dictionary(text.filter((k) => k !== '__proto__'), int64, { maxKeys: 3 }),
  st: fc.array(text, { maxLength: 3 }),
  inner: text.map((s) => new Inner({ s })),
  u: fc.uuid(),
  write: text,
});

const view = (k: Kitchen) => ({ ...k, bin: k.bin ? Buffer.from(k.bin).toString('hex') : null, inner: k.inner ? { s: k.inner.s } : null });

describe('thrift codec properties', () => {
  test('arbitrary bytes and mutated structs: a struct or a CodecError, at default and tight limits', () => {
    const mutated = fc.tuple(kitchen, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([fields, edits]) => {
      const bytes = Uint8Array.from(codec.encode(new Kitchen(fields)));
      for (const [at, b] of edits) bytes[at % bytes.length] = b;
      return bytes;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated), (bytes) => {
        decodesOrRefuses(codec, bytes);
        decodesOrRefuses(tight, bytes);
      }),
      { numRuns: 2000 },
    );
  });

  test('encode then decode gives the struct back (or refuses a "__proto__" map key)', () => {
    fc.assert(
      fc.property(kitchen, (fields) => {
        // fast-check probes dictionaries with a "__proto__" key, which the reader refuses.
        if (Object.hasOwn(fields.m, '__proto__')) {
          expect(() => codec.decode(codec.encode(new Kitchen(fields)), Kitchen)).toThrow('map key "__proto__" refused');
          return;
        }
        const decoded = codec.decode(codec.encode(new Kitchen(fields)), Kitchen) as Kitchen;
        expect(decoded).toBeInstanceOf(Kitchen);
        expect(view(decoded)).toEqual(view(new Kitchen(fields)));
      }),
      { numRuns: 500 },
    );
  });
});
