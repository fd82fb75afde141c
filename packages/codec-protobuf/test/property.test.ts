// Property-based tests (fast-check): any bytes decode to a message or fail with a CodecError,
// and every message of a schema survives encode then decode. fast-check prints the seed and
// the shrunk input of a failure.
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { CodecError } from '@rpcx/core';
import { protobufCodec } from '../src/index.js';

const root = protobuf.parse(
  `syntax = "proto3";
  message P {
    int32 i32 = 1; int64 i64 = 2; uint64 u64 = 3; sint64 s64 = 4; string str = 5; bytes data = 6;
    repeated int64 list = 7; map<string, int64> m = 8; P child = 9; repeated P kids = 10;
    double d = 11; bool ok = 12; map<int32, P> byId = 13;
  }`,
  { keepCase: true },
).root;
const P = root.lookupType('P');

const codec = protobufCodec();
/** Small limits, so that the limit checks are reached by generated inputs too. */
const tight = protobufCodec({ maxDepth: 3, maxObjects: 40, maxLength: 200 });

function decodesOrRefuses(c: typeof codec, bytes: Uint8Array): void {
  try {
    c.decode(bytes, P);
  } catch (err) {
    expect(err).toBeInstanceOf(CodecError);
    expect((err as Error).message.startsWith('protobuf: ')).toBe(true);
  }
}

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

type Plain = Record<string, unknown>;

/** A P with every field set, as decode gives it back (defaults filled in), nesting `depth` more levels. */
function messageAt(depth: number): fc.Arbitrary<Plain> {
  const inner = depth === 0 ? undefined : messageAt(depth - 1);
  return fc.record({
    i32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    i64: int64,
    u64: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    s64: int64,
    str: text,
    data: fc.uint8Array({ maxLength: 16 }),
    list: fc.array(int64, { maxLength: 4 }),
    m: fc.dictionary(text, int64, { maxKeys: 3 }),
    // null is an unset message field.
    child: inner ? fc.option(inner, { nil: null }) : fc.constant(null),
    kids: inner ? fc.array(inner, { maxLength: 2 }) : fc.constant([]),
    // -0 is a zero value: proto3 does not send it, so it comes back as 0.
    d: fc.double().filter((n) => !Object.is(n, -0)),
    ok: fc.boolean(),
    byId: inner ? fc.dictionary(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(String), inner, { maxKeys: 2 }) : fc.constant({}),
  });
}
const message = messageAt(2);

/** Bytes fields come back as Buffers from Node's realm: compare bytes as hex. */
function normalize(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

describe('protobuf codec properties', () => {
  test('arbitrary bytes and mutated messages: a message or a CodecError, at default and tight limits', () => {
    const mutated = fc.tuple(message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([m, edits]) => {
      const bytes = Uint8Array.from(codec.encode(m, P));
      for (const [at, b] of edits) if (bytes.length > 0) bytes[at % bytes.length] = b;
      return bytes;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated), (bytes) => {
        decodesOrRefuses(codec, bytes);
        decodesOrRefuses(tight, bytes);
      }),
      { numRuns: 1500 },
    );
  });

  test('encode then decode gives the message back', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(normalize(codec.decode(codec.encode(m, P), P))).toEqual(normalize(m));
      }),
      { numRuns: 200 },
    );
  });
});
