/**
 * Reed-Solomon erasure coding over GF(2^8), laid out as klauspost/reedsolomon (the library
 * kcp-go uses) lays it out by default, so the parity bytes are the same as Go's:
 *
 * - the field is GF(2^8) with the reducing polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D) and
 *   generator 2;
 * - the encoding matrix is a Vandermonde matrix V (rows = all shards, V[r][c] = r^c, with
 *   0^0 = 1) multiplied by the inverse of its top square, which turns the top into the identity:
 *   data shards pass unchanged and each parity shard is a fixed linear combination of them.
 *
 * Any `dataShards` of the shards determine the others. This module holds only what the FEC
 * layer needs: encode the parity of a group, and rebuild missing data shards.
 */
import { ConfigError } from '@rpcx/core';


const FIELD = 256;
const POLY = 0x11d;

/** EXP[i] = 2^i for i in 0..509 (doubled so a product needs no modulo); LOG is its inverse. */
const EXP = new Uint8Array(2 * FIELD);
const LOG = new Uint8Array(FIELD);
{
  let x = 1;
  for (let i = 0; i < FIELD - 1; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & FIELD) x ^= POLY;
  }
  for (let i = FIELD - 1; i < EXP.length; i++) EXP[i] = EXP[i - (FIELD - 1)];
}

/** MUL[a * 256 + b] = a·b: one 64 KiB table so the coding loops are a lookup and a xor. */
const MUL = new Uint8Array(FIELD * FIELD);
for (let a = 1; a < FIELD; a++) {
  for (let b = 1; b < FIELD; b++) MUL[a * FIELD + b] = EXP[LOG[a] + LOG[b]];
}

export function gfMul(a: number, b: number): number {
  return MUL[a * FIELD + b];
}

export function gfInverse(a: number): number {
  if (a === 0) throw new ConfigError('0 has no inverse in GF(2^8)');
  return EXP[FIELD - 1 - LOG[a]];
}

/** a^n in the field, with 0^0 = 1 (as the Vandermonde matrix needs). */
export function gfPow(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a] * n) % (FIELD - 1)];
}

type Matrix = Uint8Array[];

function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, i) => {
    const row = new Uint8Array(n);
    row[i] = 1;
    return row;
  });
}

function multiply(a: Matrix, b: Matrix): Matrix {
  const inner = b.length;
  const cols = b[0].length;
  return a.map((row) => {
    const out = new Uint8Array(cols);
    for (let c = 0; c < cols; c++) {
      let v = 0;
      for (let k = 0; k < inner; k++) v ^= gfMul(row[k], b[k][c]);
      out[c] = v;
    }
    return out;
  });
}

/** Gauss-Jordan inversion of a square matrix; throws if it is singular. */
export function invert(matrix: Matrix): Matrix {
  const n = matrix.length;
  const work = matrix.map((row) => Uint8Array.from(row));
  const inv = identity(n);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && work[pivot][col] === 0) pivot++;
    if (pivot === n) throw new ConfigError('matrix is singular');
    if (pivot !== col) {
      [work[col], work[pivot]] = [work[pivot], work[col]];
      [inv[col], inv[pivot]] = [inv[pivot], inv[col]];
    }
    const scale = gfInverse(work[col][col]);
    if (scale !== 1) {
      for (let c = 0; c < n; c++) {
        work[col][c] = gfMul(work[col][c], scale);
        inv[col][c] = gfMul(inv[col][c], scale);
      }
    }
    for (let r = 0; r < n; r++) {
      const factor = work[r][col];
      if (r === col || factor === 0) continue;
      for (let c = 0; c < n; c++) {
        work[r][c] ^= gfMul(factor, work[col][c]);
        inv[r][c] ^= gfMul(factor, inv[col][c]);
      }
    }
  }
  return inv;
}

/** The klauspost/reedsolomon default encoding matrix: Vandermonde × inverse(its top square). */
export function encodingMatrix(dataShards: number, totalShards: number): Matrix {
  const vandermonde: Matrix = Array.from({ length: totalShards }, (_, r) => {
    const row = new Uint8Array(dataShards);
    for (let c = 0; c < dataShards; c++) row[c] = gfPow(r, c);
    return row;
  });
  return multiply(vandermonde, invert(vandermonde.slice(0, dataShards)));
}

/** out[from..length) = Σ coefficients[k] · inputs[k][from..length). */
function combine(coefficients: Uint8Array, inputs: readonly Uint8Array[], out: Uint8Array, length: number, from = 0): void {
  out.fill(0, from, length);
  for (let k = 0; k < inputs.length; k++) {
    const c = coefficients[k];
    if (c === 0) continue;
    const input = inputs[k];
    if (c === 1) {
      for (let j = from; j < length; j++) out[j] ^= input[j];
      continue;
    }
    const base = c * FIELD;
    for (let j = from; j < length; j++) out[j] ^= MUL[base + input[j]];
  }
}

type EncodeFn = (data: readonly Int32Array[], parity: readonly Int32Array[], words: number) => void;

/**
 * An encoder specialised for one matrix that works on four bytes at a time: multiplying by a
 * constant c in GF(2^8) is the xor of x·2^b over the bits b of c, and doubling four packed
 * bytes at once is a shift, a mask and a conditional xor with the polynomial. Each data word
 * is read once, doubled as often as its largest coefficient needs, and xored into every
 * parity word whose coefficient has that bit: no table lookups (V8 keeps everything in
 * registers), about 1.5× faster than a byte loop with a product table on its own and more in
 * a busy process, where the 64 KiB table falls out of the cache. Generated with `new Function`;
 * where code generation from strings is disabled, the generic byte loop is used instead.
 */
function wordEncoder(rows: readonly Uint8Array[]): EncodeFn | undefined {
  const dataShards = rows[0].length;
  const lines: string[] = [];
  for (let k = 0; k < dataShards; k++) lines.push(`const d${k} = data[${k}];`);
  rows.forEach((_, p) => lines.push(`const p${p} = parity[${p}];`));
  lines.push('for (let j = 0; j < words; j++) {');
  rows.forEach((_, p) => lines.push(`  let a${p} = 0;`));
  lines.push('  let t = 0;');
  for (let k = 0; k < dataShards; k++) {
    let top = -1;
    for (const row of rows) if (row[k] !== 0) top = Math.max(top, 31 - Math.clz32(row[k]));
    if (top < 0) continue;
    lines.push(`  t = d${k}[j];`);
    for (let bit = 0; bit <= top; bit++) {
      // x·2 for each byte: shift within the byte, reduce by 0x1D where the top bit fell out.
      if (bit > 0) lines.push('  t = ((t & 0x7f7f7f7f) << 1) ^ (((t >>> 7) & 0x01010101) * 0x1d);');
      rows.forEach((row, p) => {
        if (row[k] & (1 << bit)) lines.push(`  a${p} ^= t;`);
      });
    }
  }
  rows.forEach((_, p) => lines.push(`  p${p}[j] = a${p};`));
  lines.push('}');
  try {
    return new Function('data', 'parity', 'words', lines.join('\n')) as EncodeFn;
  } catch {
    return undefined;
  }
}

/** A view of a buffer's whole 32-bit words, if it starts on a 4-byte boundary. */
function wordsOf(buffer: Uint8Array, words: number): Int32Array | undefined {
  return (buffer.byteOffset & 3) === 0 && buffer.length >= words * 4 ? new Int32Array(buffer.buffer, buffer.byteOffset, words) : undefined;
}

export class ReedSolomon {
  readonly dataShards: number;
  readonly parityShards: number;
  readonly totalShards: number;
  readonly #matrix: Matrix;
  /** Inverted sub-matrices by the bit mask of the shards they were built from. */
  readonly #decodeCache = new Map<number, Matrix>();

  constructor(dataShards: number, parityShards: number) {
    if (!Number.isInteger(dataShards) || !Number.isInteger(parityShards) || dataShards < 1 || parityShards < 1) {
      throw new ConfigError('Reed-Solomon needs at least one data and one parity shard');
    }
    if (dataShards + parityShards > 32) {
      // 32 keeps the shard set in one bit mask; kcp-go setups use far fewer (rpcx: 10 + 3).
      throw new ConfigError('at most 32 shards in all');
    }
    this.dataShards = dataShards;
    this.parityShards = parityShards;
    this.totalShards = dataShards + parityShards;
    this.#matrix = encodingMatrix(dataShards, this.totalShards);
    this.#encodeWords = wordEncoder(this.#matrix.slice(dataShards));
  }

  readonly #encodeWords: EncodeFn | undefined;

  /** The rows of the encoding matrix (the top `dataShards` rows are the identity). */
  get matrix(): readonly Uint8Array[] {
    return this.#matrix;
  }

  /**
   * Compute the parity of `data` (exactly `dataShards` shards) into `parity` (`parityShards`
   * buffers), over the first `length` bytes of each. Shorter shards must be zero-padded by the
   * caller up to `length`.
   */
  encode(data: readonly Uint8Array[], parity: readonly Uint8Array[], length: number): void {
    if (data.length !== this.dataShards || parity.length !== this.parityShards) {
      throw new ConfigError(`expected ${this.dataShards} data and ${this.parityShards} parity shards`);
    }
    const words = length >>> 2;
    if (this.#encodeWords && words > 0) {
      // Word-aligned shards (the FEC encoder's are) go four bytes at a time, the rest bytewise.
      const dataWords: Int32Array[] = [];
      const parityWords: Int32Array[] = [];
      for (const shard of data) {
        const view = wordsOf(shard, words);
        if (view) dataWords.push(view);
      }
      for (const shard of parity) {
        const view = wordsOf(shard, words);
        if (view) parityWords.push(view);
      }
      if (dataWords.length === data.length && parityWords.length === parity.length) {
        this.#encodeWords(dataWords, parityWords, words);
        for (let p = 0; p < this.parityShards; p++) combine(this.#matrix[this.dataShards + p], data, parity[p], length, words * 4);
        return;
      }
    }
    for (let p = 0; p < this.parityShards; p++) combine(this.#matrix[this.dataShards + p], data, parity[p], length);
  }

  /**
   * Rebuild the missing data shards. `shards` has `totalShards` entries, `undefined` where
   * a shard is missing; every present one holds at least `length` bytes (zero-padded). Needs
   * at least `dataShards` present shards. Returns the indices of the rebuilt data shards, whose
   * entries in `shards` are then filled with new buffers of `length` bytes.
   */
  reconstructData(shards: (Uint8Array | undefined)[], length: number): number[] {
    if (shards.length !== this.totalShards) throw new ConfigError(`expected ${this.totalShards} shards`);
    const missing: number[] = [];
    for (let i = 0; i < this.dataShards; i++) if (!shards[i]) missing.push(i);
    if (missing.length === 0) return missing;
    const rows: number[] = [];
    for (let i = 0; i < this.totalShards && rows.length < this.dataShards; i++) if (shards[i]) rows.push(i);
    if (rows.length < this.dataShards) throw new ConfigError('too few shards to reconstruct');
    let mask = 0;
    for (const r of rows) mask |= 1 << r;
    let decode = this.#decodeCache.get(mask);
    if (!decode) {
      decode = invert(rows.map((r) => this.#matrix[r]));
      if (this.#decodeCache.size > 256) this.#decodeCache.clear();
      this.#decodeCache.set(mask, decode);
    }
    const inputs = rows.map((r) => shards[r]!);
    for (const i of missing) {
      const out = new Uint8Array(length);
      // Row i of the inverse maps the chosen shards back to data shard i.
      combine(decode[i], inputs, out, length);
      shards[i] = out;
    }
    return missing;
  }
}
