/**
 * The codec compliance suite: what every @rpcx `Codec` must do, whatever its format, and the
 * golden-fixture convention the codec packages share: `test/fixtures/<name>.hex` holds one
 * payload as hex (whitespace ignored, a line starting with `#` says where the bytes come from),
 * and the test file maps each name to the value it must decode to.
 *
 * Assertions use `node:assert/strict`; `describe` and `test` come from the globals (jest,
 * vitest) or from `runner`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Codec } from '../codec.js';
import { CodecError } from '../errors.js';
import { globalRunner, type TestRunner } from './runner.js';

export interface CodecComplianceCase {
  name: string;
  value: unknown;
  schema?: unknown;
  /** What decode must give back, when it differs from `value` (e.g. a message instance). */
  decoded?: unknown;
}

export interface CodecComplianceSpec {
  serializeType: number;
  name: string;
  /** Representative values; each must round-trip. At least two. */
  cases: CodecComplianceCase[];
  /** Payloads decode must refuse with a `CodecError` whose message starts with `<name>: `. */
  garbage: Array<{ name: string; bytes: Uint8Array; schema?: unknown }>;
  /** Values encode must refuse by throwing an `Error`. */
  unencodable?: Array<{ name: string; value: unknown; schema?: unknown }>;
  /** How decoded values are compared. Default: `assert.deepStrictEqual`. */
  same?: (actual: unknown, expected: unknown) => void;
  /** Test framework functions. Default: the globals `describe` and `test`. */
  runner?: TestRunner;
  /** Timeout of each test, in ms. Default 30000. */
  testTimeoutMs?: number;
}

/** Lowercase hex of `bytes`. */
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** Bytes from hex text: whitespace ignored, lines starting with `#` are comments. */
export const fromHex = (text: string): Uint8Array => {
  const clean = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  // No quantified group: over a bomb's 64 MB of hex, `^(?:[0-9a-f]{2})*$` overflowed V8's
  // regexp backtrack stack in one CI run (depending on whether the regexp had been compiled yet).
  assert.ok(clean.length % 2 === 0 && !/[^0-9a-fA-F]/.test(clean), `not hex: ${clean.slice(0, 40)}`);
  // A plain Uint8Array, not a pooled Buffer, so tests see what a transport would hand over.
  return new Uint8Array(Buffer.from(clean, 'hex'));
};

/** The same bytes at a non-zero offset inside a larger buffer, as a frame's payload arrives. */
export function embedded(bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(bytes.length + 10).fill(0xc1);
  frame.set(bytes, 7);
  return frame.subarray(7, 7 + bytes.length);
}

/** Declare the compliance tests for one codec (one `describe` block). */
export function codecCompliance(make: () => Codec, spec: CodecComplianceSpec): void {
  const runner = spec.runner ?? globalRunner('codecCompliance');
  const timeoutMs = spec.testTimeoutMs ?? 30_000;
  const same = spec.same ?? ((actual: unknown, expected: unknown) => assert.deepStrictEqual(actual, expected));
  const expectedOf = (c: CodecComplianceCase) => ('decoded' in c ? c.decoded : c.value);
  const test = (name: string, body: () => void) => runner.test(name, body, timeoutMs);
  const stillWorks = (codec: Codec) => {
    const c = spec.cases[0];
    same(codec.decode(codec.encode(c.value, c.schema), c.schema), expectedOf(c));
  };

  runner.describe(`${spec.name} codec compliance`, () => {
    test('names itself', () => {
      const codec = make();
      assert.equal(codec.serializeType, spec.serializeType);
      assert.ok(Number.isInteger(codec.serializeType) && codec.serializeType >= 0 && codec.serializeType <= 15, 'serializeType is 0..15');
      assert.equal(codec.name, spec.name);
      assert.ok(spec.cases.length >= 2, 'the spec has at least two cases');
    });

    for (const c of spec.cases) {
      test(`round-trips ${c.name}`, () => {
        const codec = make();
        const bytes = codec.encode(c.value, c.schema);
        assert.ok(bytes instanceof Uint8Array, 'encode gives a Uint8Array');
        same(codec.decode(bytes, c.schema), expectedOf(c));
      });
    }

    test('decodes a payload that is a view inside a larger buffer', () => {
      const codec = make();
      for (const c of spec.cases) same(codec.decode(embedded(codec.encode(c.value, c.schema)), c.schema), expectedOf(c));
    });

    test('encode output belongs to the caller: later calls do not change it', () => {
      const codec = make();
      const [first, second] = spec.cases;
      const kept = codec.encode(first.value, first.schema);
      const snapshot = hex(kept);
      for (let i = 0; i < 3; i++) codec.encode(second.value, second.schema);
      assert.equal(hex(kept), snapshot);
      // And the same value encodes to the same bytes every time.
      assert.equal(hex(codec.encode(first.value, first.schema)), snapshot);
    });

    test('decode leaves its input untouched', () => {
      const codec = make();
      for (const c of spec.cases) {
        const bytes = codec.encode(c.value, c.schema);
        const before = hex(bytes);
        codec.decode(bytes, c.schema);
        assert.equal(hex(bytes), before);
      }
    });

    for (const g of spec.garbage) {
      test(`decode of garbage (${g.name}) throws a CodecError`, () => {
        const codec = make();
        assert.throws(
          () => codec.decode(g.bytes, g.schema),
          (error: unknown) => error instanceof CodecError && error.message.startsWith(`${spec.name}: `),
          `a CodecError whose message starts with "${spec.name}: "`,
        );
        // The codec stays usable afterwards.
        stillWorks(codec);
      });
    }

    for (const u of spec.unencodable ?? []) {
      test(`encode of ${u.name} throws an Error`, () => {
        const codec = make();
        assert.throws(() => codec.encode(u.value, u.schema), Error);
        stillWorks(codec);
      });
    }
  });
}

/** What a golden payload must decode to, keyed by fixture name. */
export interface Golden {
  schema?: unknown;
  value: unknown;
  /** Also require `encode(value)` to give exactly these bytes (not for Go maps, whose order varies). */
  exactEncode?: boolean;
}

/** Reads `<dir>/*.hex`, by name; a missing folder reads as empty. */
export function loadHexFixtures(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith('.hex')) out.set(file.slice(0, -4), fromHex(readFileSync(join(dir, file), 'utf8')));
  }
  return out;
}

export interface GoldenFixturesOptions {
  /** How decoded values are compared. Default: `assert.deepStrictEqual`. */
  same?: (actual: unknown, expected: unknown) => void;
  runner?: TestRunner;
}

/**
 * Each fixture in `dir` must decode to its golden value (and, with `exactEncode`, the value
 * encode to the fixture). Every fixture must have a golden value and every golden value a
 * fixture: a fixture nobody described tests nothing.
 */
export function goldenFixtures(make: () => Codec, dir: string, goldens: Record<string, Golden>, options: GoldenFixturesOptions = {}): void {
  const runner = options.runner ?? globalRunner('goldenFixtures');
  const compare = options.same ?? ((actual: unknown, expected: unknown) => assert.deepStrictEqual(actual, expected));
  const fixtures = loadHexFixtures(dir);

  runner.describe('golden fixtures', () => {
    runner.test(
      'each fixture file has an expected value and each expected value a file',
      () => assert.deepEqual([...fixtures.keys()].sort(), Object.keys(goldens).sort()),
      30_000,
    );
    for (const [name, golden] of Object.entries(goldens)) {
      runner.test(
        name,
        () => {
          const bytes = fixtures.get(name);
          assert.ok(bytes, `test/fixtures/${name}.hex exists`);
          const codec = make();
          compare(codec.decode(bytes, golden.schema), golden.value);
          if (golden.exactEncode) assert.equal(hex(codec.encode(golden.value, golden.schema)), hex(bytes));
        },
        30_000,
      );
    }
  });
}
