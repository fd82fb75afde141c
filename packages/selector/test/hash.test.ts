import { ConfigError } from '@rpcx/core';
import { defaultHashKey, fnv1a64, jumpHash, stableStringify } from '../src/index.js';
import { seeded } from './helpers.js';

// Straightforward BigInt versions of the published algorithms, to check the 32-bit-halves code.
const MASK = (1n << 64n) - 1n;
function refFnv(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & MASK;
  return h;
}
function refJump(key: bigint, buckets: number): number {
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & MASK;
    j = Math.floor((b + 1) * (2147483648 / (Number(key >> 33n) + 1)));
  }
  return b;
}

describe('fnv1a64', () => {
  // Printed by Go's hash/fnv New64a (throwaway program, go1.26).
  const vectors: [string, bigint][] = [
    ['', 0xcbf29ce484222325n],
    ['a', 0xaf63dc4c8601ec8cn],
    ['foobar', 0x85944171f73967e8n],
    ['/Arith/Mul/&{10 20}', 0x20fe73eb7bd50f79n],
    ['héllo wörld', 0x11824ab841812022n],
    ['日本語', 0xee9ee2b5c854ef87n],
    ['😀', 0xfeff073875020288n],
  ];
  it.each(vectors)('matches Go for %j', (s, expected) => {
    expect(fnv1a64(s)).toBe(expected);
  });

  it('hashes a lone surrogate as U+FFFD, like its UTF-8 encoding', () => {
    expect(fnv1a64('x\ud800y')).toBe(fnv1a64('x\ufffdy'));
    expect(fnv1a64('\udc00')).toBe(refFnv('\udc00'));
  });

  it('agrees with a BigInt reference on random strings', () => {
    const rnd = seeded(7);
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = Math.floor(rnd() * 40);
      for (let j = 0; j < len; j++) {
        const r = rnd();
        // Mix ASCII, 2-byte, 3-byte and astral characters.
        const cp = r < 0.5 ? 32 + Math.floor(rnd() * 95) : r < 0.7 ? 0x80 + Math.floor(rnd() * 0x780) : r < 0.9 ? 0x800 + Math.floor(rnd() * 0xd000) : 0x10000 + Math.floor(rnd() * 0xfffff);
        s += String.fromCodePoint(cp);
      }
      expect(fnv1a64(s)).toBe(refFnv(s));
    }
  });
});

describe('jumpHash', () => {
  // Printed by a Go jump hash written from the paper (b=-1, j=0; key*2862933555777941757+1;
  // j = int64(float64(b+1) * (float64(1<<31) / float64((key>>33)+1)))).
  const buckets = [1, 2, 3, 5, 10, 100, 1000, 65536, 2 ** 30];
  const vectors: [bigint, number[]][] = [
    [0n, [0, 0, 0, 0, 0, 0, 0, 0, 0]],
    [1n, [0, 0, 0, 0, 6, 55, 549, 21134, 262355607]],
    [2n, [0, 0, 0, 3, 6, 62, 338, 3927, 736532115]],
    [0xdeadbeefn, [0, 1, 2, 3, 5, 87, 285, 64244, 212786410]],
    [0xffffffffffffffffn, [0, 1, 2, 2, 9, 92, 313, 18311, 699554662]],
    [0x8000000000000000n, [0, 1, 1, 4, 5, 84, 453, 53854, 674890281]],
    [0xcbf29ce484222325n, [0, 1, 1, 1, 1, 90, 266, 14284, 45969538]],
    [0x123456789abcdef0n, [0, 0, 2, 4, 4, 33, 399, 55019, 267021293]],
    [0x002698ad4b48eacfn, [0, 1, 1, 1, 6, 21, 830, 4855, 977315119]],
  ];
  it.each(vectors)('matches Go for key %s', (key, expected) => {
    expect(buckets.map((n) => jumpHash(key, n))).toEqual(expected);
  });

  it('agrees with a BigInt reference on random keys', () => {
    const rnd = seeded(11);
    for (let i = 0; i < 2000; i++) {
      const key = (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
      const n = 1 + Math.floor(rnd() * (i % 2 ? 200 : 100000));
      expect(jumpHash(key, n)).toBe(refJump(key, n));
    }
  });

  it('takes keys modulo 2^64', () => {
    expect(jumpHash(-1n, 1000)).toBe(313);
    expect(jumpHash((1n << 64n) + 2n, 1000)).toBe(338);
  });

  it('rejects bucket counts with no valid answer', () => {
    expect(() => jumpHash(1n, 0)).toThrow(ConfigError);
    expect(() => jumpHash(1n, 1.5)).toThrow(ConfigError);
    expect(() => jumpHash(1n, 2 ** 31)).toThrow(ConfigError);
  });

  it('moves only about 1/(n+1) of keys, all to the new bucket, when a bucket is added', () => {
    let moved = 0;
    for (let k = 0n; k < 10000n; k++) {
      const key = refFnv(`key-${k}`);
      const before = jumpHash(key, 10);
      const after = jumpHash(key, 11);
      if (before !== after) {
        moved++;
        expect(after).toBe(10);
      }
    }
    expect(moved).toBeGreaterThan(700);
    expect(moved).toBeLessThan(1100);
  });
});

describe('stableStringify / defaultHashKey', () => {
  it('does not depend on property insertion order', () => {
    expect(stableStringify({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(stableStringify({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    expect(stableStringify({ a: 1, b: 2 })).toBe('{"a":1,"b":2}');
  });

  it('keeps values JSON loses and tells them apart', () => {
    expect(stableStringify(10n)).toBe('10n');
    expect(stableStringify(10)).toBe('10');
    expect(stableStringify(Buffer.from([1, 255]))).toBe('"0x01ff"');
    expect(stableStringify(new Map([['b', 1], ['a', 2]]))).toBe(stableStringify(new Map([['a', 2], ['b', 1]])));
    expect(stableStringify(new Set([2, 1]))).toBe('Set[1,2]');
    expect(stableStringify(NaN)).toBe('NaN');
    expect(stableStringify(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(stableStringify({ a: undefined, b: () => 1, c: null })).toBe('{"c":null}');
    expect(stableStringify(undefined)).toBe('null');
  });

  it('survives cycles', () => {
    const o: Record<string, unknown> = { x: 1 };
    o.self = o;
    expect(stableStringify(o)).toBe('{"self":"[Circular]","x":1}');
  });

  it('builds /servicePath/serviceMethod/args like Go', () => {
    expect(defaultHashKey({ servicePath: 'Arith', serviceMethod: 'Mul', args: { B: 20, A: 10 } })).toBe('/Arith/Mul/{"A":10,"B":20}');
  });
});
