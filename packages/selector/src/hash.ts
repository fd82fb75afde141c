/**
 * 64-bit hashing without BigInt on the hot path, since a select runs once per call: FNV-1a 64
 * runs on four 16-bit limbs and jump hash multiplies two 32-bit halves, with every
 * intermediate exact in a double. The `bigint` forms are for users and tests.
 */
import { ConfigError } from '@rpcx/core';

/** An unsigned 64-bit value as two unsigned 32-bit halves. Reused by callers to avoid allocation. */
export interface U64 {
  hi: number;
  lo: number;
}

const TWO_32 = 4294967296;

// Results of mul64. A typed array, not module variables: a uint32 above 2^31 stored in a
// variable outside the function is boxed (one allocation per store); a typed array is not.
const MUL = new Uint32Array(2);

/** (aHi:aLo × bHi:bLo) mod 2^64 into MUL[0]:MUL[1] (hi:lo). */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  // aLo × bLo needs all 64 bits: split both into 16-bit limbs so each product is exact.
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const mid = a1 * b0 + a0 * b1; // < 2^33
  const low = a0 * b0 + (mid & 0xffff) * 65536; // < 2^33
  const high = a1 * b1 + Math.floor(mid / 65536) + Math.floor(low / TWO_32);
  // The cross terms only matter modulo 2^32, which is what Math.imul gives; storing into a
  // Uint32Array reduces the (exact) sums modulo 2^32.
  MUL[0] = high + Math.imul(aHi, bLo) + Math.imul(aLo, bHi);
  MUL[1] = low;
}

// UTF-8 scratch for the non-ASCII tail of a key; grows to the longest seen.
let utf8 = new Uint8Array(256);
const encoder = new TextEncoder();

/**
 * FNV-1a 64 of the UTF-8 bytes of `s` into `out` (Go hashes a string's bytes, which are UTF-8).
 * Lone surrogates hash as U+FFFD, as UTF-8 encoders write them.
 *
 * The state is four 16-bit limbs so every operation stays in small integers (fastest in V8).
 * The prime is 2^40 + 0x1b3: h × prime = h × 0x1b3 + (h << 40), and << 40 is limb + 2, << 8.
 */
export function fnv1a64Into(s: string, out: U64): U64 {
  let v0 = 0x2325;
  let v1 = 0x8422;
  let v2 = 0x9ce4;
  let v3 = 0xcbf2;
  const n = s.length;
  let i = 0;
  // ASCII prefix straight from the string: its UTF-16 units are its UTF-8 bytes.
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    v0 ^= c;
    const t0 = v0 * 0x1b3;
    let t1 = v1 * 0x1b3;
    let t2 = v2 * 0x1b3 + (v0 << 8);
    const t3 = v3 * 0x1b3 + (v1 << 8);
    t1 += t0 >>> 16;
    t2 += t1 >>> 16;
    v0 = t0 & 0xffff;
    v1 = t1 & 0xffff;
    v2 = t2 & 0xffff;
    v3 = (t3 + (t2 >>> 16)) & 0xffff;
  }
  if (i < n) {
    // The rest has non-ASCII characters: encode it to UTF-8 first (the same steps follow).
    const rest = s.slice(i);
    if (rest.length * 3 > utf8.length) utf8 = new Uint8Array(rest.length * 3);
    const bytes = utf8;
    const m = encoder.encodeInto(rest, bytes).written;
    for (let j = 0; j < m; j++) {
      v0 ^= bytes[j];
      const t0 = v0 * 0x1b3;
      let t1 = v1 * 0x1b3;
      let t2 = v2 * 0x1b3 + (v0 << 8);
      const t3 = v3 * 0x1b3 + (v1 << 8);
      t1 += t0 >>> 16;
      t2 += t1 >>> 16;
      v0 = t0 & 0xffff;
      v1 = t1 & 0xffff;
      v2 = t2 & 0xffff;
      v3 = (t3 + (t2 >>> 16)) & 0xffff;
    }
  }
  out.hi = ((v3 << 16) | v2) >>> 0;
  out.lo = ((v1 << 16) | v0) >>> 0;
  return out;
}

/** FNV-1a 64 of the UTF-8 bytes of `s` (Go `hash/fnv.New64a`). */
export function fnv1a64(s: string): bigint {
  const h = fnv1a64Into(s, { hi: 0, lo: 0 });
  return (BigInt(h.hi) << 32n) | BigInt(h.lo);
}

// 2862933555777941757, the multiplier of Google's jump consistent hash.
const JUMP_HI = 0x27bb2ee6;
const JUMP_LO = 0x87b0b0fd;

/** Jump consistent hash of a key given in halves; `buckets` must be an integer ≥ 1. */
export function jumpHashHalves(hi: number, lo: number, buckets: number): number {
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    mul64(hi, lo, JUMP_HI, JUMP_LO);
    hi = MUL[0];
    lo = (MUL[1] + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
    // key >> 33 is the top 31 bits, i.e. hi >>> 1. Same float64 operations as Go and C++.
    j = Math.floor((b + 1) * (2147483648 / ((hi >>> 1) + 1)));
  }
  return b;
}

/**
 * Google's jump consistent hash (Lamping & Veach 2014): a bucket in `[0, buckets)` for a
 * 64-bit key. `buckets` is an integer in `[1, 2^31 − 1]` (Go's helper takes an int32 and
 * turns ≤ 0 into 1; here that is a ConfigError, because 0 buckets has no valid answer).
 */
export function jumpHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 0x7fffffff) {
    throw new ConfigError(`jumpHash: buckets must be an integer in [1, 2^31-1], got ${buckets}`);
  }
  const k = BigInt.asUintN(64, key);
  return jumpHashHalves(Number(k >> 32n), Number(k & 0xffffffffn), buckets);
}

/** MurmurHash3's 32-bit finalizer (fmix32): a bijection on 32 bits with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A 32-bit score for rendezvous hashing from a key hash and a server hash (both 64-bit, in
 * halves): fmix32 applied twice to `key XOR server`. The servers' hashes are distinct random-
 * looking values, so for one key the scores behave like independent uniform draws. 32 bits
 * are plenty to rank a server list; ties are broken by server order.
 */
export function rendezvousScore(keyHi: number, keyLo: number, serverHi: number, serverLo: number): number {
  return fmix32((keyLo ^ serverLo ^ fmix32((keyHi ^ serverHi) >>> 0)) >>> 0);
}
