/**
 * Checks every @rpcx codec must pass, whatever its format. The four codec packages import this
 * file by relative path (it is not a test file itself: jest only runs `*.test.ts`).
 *
 * Also holds the golden-fixture convention shared by the codec tests: `test/fixtures/<name>.hex`
 * holds one payload as hex (whitespace ignored, `#` starts a comment line saying where the bytes
 * come from), and the test file maps each name to the JS value it must decode to.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CodecError, type Codec } from '@rpcx/core';

export interface ComplianceCase {
  name: string;
  value: unknown;
  schema?: unknown;
  /** What decode must give back, when it differs from `value` (e.g. a message instance). */
  decoded?: unknown;
}

export interface ComplianceSpec {
  serializeType: number;
  name: string;
  /** Representative values; each must round-trip. At least two. */
  cases: ComplianceCase[];
  /** Payloads decode must refuse by throwing a `CodecError` (from @rpcx/core). */
  garbage: Array<{ name: string; bytes: Uint8Array; schema?: unknown }>;
  /** Values encode must refuse by throwing an Error. */
  unencodable?: Array<{ name: string; value: unknown; schema?: unknown }>;
  /** How decoded values are compared; default `expect(actual).toEqual(expected)`. */
  same?: (actual: unknown, expected: unknown) => void;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export const fromHex = (text: string): Uint8Array => {
  const clean = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not hex: ${clean.slice(0, 40)}`);
  // A plain Uint8Array, not a pooled Buffer, so tests see what a transport would hand over.
  return new Uint8Array(Buffer.from(clean, 'hex'));
};

/** The same bytes at a non-zero offset inside a larger buffer, as a frame's payload arrives. */
export function embedded(bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(bytes.length + 10).fill(0xc1);
  frame.set(bytes, 7);
  return frame.subarray(7, 7 + bytes.length);
}

export function codecCompliance(make: () => Codec, spec: ComplianceSpec): void {
  const same = spec.same ?? ((actual: unknown, expected: unknown) => expect(actual).toEqual(expected));
  const expectedOf = (c: ComplianceCase) => ('decoded' in c ? c.decoded : c.value);

  describe(`${spec.name} codec compliance`, () => {
    test('names itself', () => {
      const codec = make();
      expect(codec.serializeType).toBe(spec.serializeType);
      expect(Number.isInteger(codec.serializeType) && codec.serializeType >= 0 && codec.serializeType <= 15).toBe(true);
      expect(codec.name).toBe(spec.name);
      expect(spec.cases.length).toBeGreaterThanOrEqual(2);
    });

    test.each(spec.cases.map((c) => [c.name, c] as const))('round-trips %s', (_name, c) => {
      const codec = make();
      const bytes = codec.encode(c.value, c.schema);
      expect(bytes).toBeInstanceOf(Uint8Array);
      same(codec.decode(bytes, c.schema), expectedOf(c));
    });

    test('decodes a payload that is a view inside a larger buffer', () => {
      const codec = make();
      for (const c of spec.cases) {
        same(codec.decode(embedded(codec.encode(c.value, c.schema)), c.schema), expectedOf(c));
      }
    });

    test('encode output belongs to the caller: later calls do not change it', () => {
      const codec = make();
      const [first, second] = spec.cases;
      const kept = codec.encode(first.value, first.schema);
      const snapshot = hex(kept);
      for (let i = 0; i < 3; i++) codec.encode(second.value, second.schema);
      expect(hex(kept)).toBe(snapshot);
      // And the same value encodes to the same bytes every time.
      expect(hex(codec.encode(first.value, first.schema))).toBe(snapshot);
    });

    test('decode leaves its input untouched', () => {
      const codec = make();
      for (const c of spec.cases) {
        const bytes = codec.encode(c.value, c.schema);
        const before = hex(bytes);
        codec.decode(bytes, c.schema);
        expect(hex(bytes)).toBe(before);
      }
    });

    test.each(spec.garbage.map((g) => [g.name, g] as const))('decode of garbage (%s) throws a CodecError', (_name, g) => {
      const codec = make();
      let thrown: unknown;
      try {
        codec.decode(g.bytes, g.schema);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(CodecError);
      expect((thrown as Error).message.startsWith(`${spec.name}: `)).toBe(true);
      // The codec stays usable afterwards.
      const c = spec.cases[0];
      same(codec.decode(codec.encode(c.value, c.schema), c.schema), expectedOf(c));
    });

    const unencodable = spec.unencodable ?? [];
    if (unencodable.length > 0) {
      test.each(unencodable.map((u) => [u.name, u] as const))('encode of %s throws an Error', (_name, u) => {
        const codec = make();
        expect(() => codec.encode(u.value, u.schema)).toThrow(Error);
        const c = spec.cases[0];
        same(codec.decode(codec.encode(c.value, c.schema), c.schema), expectedOf(c));
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

/** Reads `<dir>/*.hex`; a missing folder reads as empty. */
export function loadHexFixtures(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith('.hex')) out.set(file.slice(0, -4), fromHex(readFileSync(join(dir, file), 'utf8')));
  }
  return out;
}

/**
 * Every fixture must have an expected value and every expected value a fixture: a fixture
 * nobody described tests nothing.
 */
export function goldenFixtures(make: () => Codec, dir: string, goldens: Record<string, Golden>, same?: ComplianceSpec['same']): void {
  const compare = same ?? ((actual: unknown, expected: unknown) => expect(actual).toEqual(expected));
  const fixtures = loadHexFixtures(dir);

  describe('golden fixtures', () => {
    test('each fixture file has an expected value and each expected value a file', () => {
      expect([...fixtures.keys()].sort()).toEqual(Object.keys(goldens).sort());
    });

    const entries = Object.entries(goldens);
    if (entries.length === 0) return;
    test.each(entries)('%s', (name, golden) => {
      const bytes = fixtures.get(name);
      expect(bytes).toBeDefined();
      const codec = make();
      compare(codec.decode(bytes!, golden.schema), golden.value);
      if (golden.exactEncode) expect(hex(codec.encode(golden.value, golden.schema))).toBe(hex(bytes!));
    });
  });
}
