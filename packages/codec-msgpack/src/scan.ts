/**
 * A linear walk over a MessagePack payload that enforces the decoding limits before
 * `@msgpack/msgpack` allocates anything. That library has length options but no depth limit,
 * and its decoder keeps an explicit stack: 32 MiB of `0x91` (arrays nested 33 million deep)
 * exhausts the heap instead of failing. It also allocates an array of the announced length
 * up front, so a 5-byte header announcing 16 million elements costs 134 MB. The walk reads
 * only headers and skips over string, binary and extension bodies, so it costs a small
 * fraction of decoding (see bench/decode.bench.ts).
 */
import { CodecError, PayloadTooDeepError, PayloadTooLargeError, positiveIntegerOptions } from '@rpcx/core';

/**
 * Decoding limits; a payload over one fails with a `PayloadTooDeepError` or
 * `PayloadTooLargeError` (from @rpcx/core) before it is decoded. Each must be a positive
 * integer. The length defaults equal rpcx's default frame limit (64 MiB), so a payload that
 * fits in a default frame never reaches them: lower them to refuse smaller parts.
 */
export interface MsgpackLimits {
  /**
   * Deepest nesting of arrays and maps: a top-level array is depth 1. Go's msgpack has no
   * limit; 1000 is the nesting limit of Jackson, deep enough for any real data.
   * @defaultValue `1000`
   */
  maxDepth?: number;
  /**
   * Most arrays, maps, binaries and extension values (each one becomes a JS object) in one
   * payload. This bounds the memory and time one payload can take: an empty map is one byte
   * on the wire and about 65 bytes of heap, an empty binary two bytes and about 100, so a
   * 64 MiB frame of them would need more heap than Node has. At the default the worst
   * payload takes about 150 MB of heap and under a second to decode. Raise it for payloads
   * that really carry more than a million records.
   * @defaultValue `1048576` (1 Mi)
   */
  maxObjects?: number;
  /** Longest string, in UTF-8 bytes (map keys included). @defaultValue `67108864` (64 MiB) */
  maxStringLength?: number;
  /** Longest binary (`bin`), in bytes. @defaultValue `67108864` (64 MiB) */
  maxBinaryLength?: number;
  /** Most elements in one array. @defaultValue `67108864` */
  maxArrayLength?: number;
  /** Most entries (key–value pairs) in one map. @defaultValue `67108864` */
  maxMapLength?: number;
  /** Longest extension value's data, in bytes (timestamps are 4, 8 or 12). @defaultValue `67108864` (64 MiB) */
  maxExtLength?: number;
}

export const DEFAULT_MSGPACK_LIMITS: Readonly<Required<MsgpackLimits>> = Object.freeze({
  maxDepth: 1000,
  maxObjects: 1024 * 1024,
  maxStringLength: 64 * 1024 * 1024,
  maxBinaryLength: 64 * 1024 * 1024,
  maxArrayLength: 64 * 1024 * 1024,
  maxMapLength: 64 * 1024 * 1024,
  maxExtLength: 64 * 1024 * 1024,
});

export function resolveLimits(options: MsgpackLimits): Required<MsgpackLimits> {
  return positiveIntegerOptions('msgpack', DEFAULT_MSGPACK_LIMITS, options);
}

const CODEC = 'msgpack';

function truncated(what: string, needed: number, left: number): CodecError {
  return new CodecError(`msgpack: ${what} needs ${needed} byte(s) but only ${left} are left`);
}

/**
 * Checks payloads against one codec's limits. Not re-entrant: it keeps its stack between
 * calls so that the scan of a small payload allocates nothing.
 */
export class PayloadScanner {
  /** Values still to read in each enclosing container; grown up to `maxDepth` as needed. */
  private outer = new Float64Array(64);

  constructor(private readonly limits: Required<MsgpackLimits>) {}

  /**
   * Checks `data` against the limits and returns whether it holds a 64-bit integer (`cf` or
   * `d3`), which needs the bigint-aware decoder. Throws a typed error for a payload over a
   * limit, or one whose headers announce more than the bytes left (the decoder would fail on
   * it too, after allocating for the announced size). Anything else malformed is left to the
   * decoder.
   */
  scan(data: Uint8Array): boolean {
    return scanPayload(data, this.limits, this);
  }

  /** The stack, with room for at least `depth` levels. */
  stack(depth: number): Float64Array {
    if (depth > this.outer.length) {
      const grown = new Float64Array(Math.max(depth, this.outer.length * 2));
      grown.set(this.outer);
      this.outer = grown;
    }
    return this.outer;
  }
}

function scanPayload(data: Uint8Array, limits: Required<MsgpackLimits>, scanner: PayloadScanner): boolean {
  const end = data.length;
  const { maxDepth, maxObjects } = limits;
  // Values still to read in each enclosing container (`outer[0 .. depth)`); the current
  // level's count is `left`.
  let outer = scanner.stack(0);
  let depth = 0;
  let left = 1;
  let pos = 0;
  let objects = 0;
  let hasInt64 = false;

  while (pos < end) {
    // Close the containers whose values have all been read.
    while (left === 0) {
      if (depth === 0) return hasInt64; // trailing bytes: the decoder reports them
      left = outer[--depth];
    }
    left--;
    const b = data[pos++];
    let count = -1; // values in a new container: its elements, or two per map entry
    let isMap = false;
    let body = 0; // bytes to skip: a string, binary or extension body, or a number
    if (b <= 0x7f || b >= 0xe0) continue; // fixint
    if (b <= 0x8f) {
      const entries = b & 0x0f;
      if (entries > limits.maxMapLength) throw tooLong('a map', entries, 'entries', 'maxMapLength', limits.maxMapLength);
      count = entries * 2;
      isMap = true;
    } else if (b <= 0x9f) {
      count = b & 0x0f;
      if (count > limits.maxArrayLength) throw tooLong('an array', count, 'elements', 'maxArrayLength', limits.maxArrayLength);
    } else if (b <= 0xbf) {
      body = stringLength(b & 0x1f, limits);
    } else {
      switch (b) {
        case 0xc0: // nil
        case 0xc1: // never used: the decoder refuses it
        case 0xc2: // false
        case 0xc3: // true
          continue;
        case 0xc4:
        case 0xc5:
        case 0xc6: {
          const n = readLength(data, pos, 1 << (b - 0xc4), 'a binary header');
          pos += 1 << (b - 0xc4);
          if (n > limits.maxBinaryLength) throw tooLong('a binary', n, 'bytes', 'maxBinaryLength', limits.maxBinaryLength);
          if (++objects > maxObjects) throw tooManyObjects(maxObjects);
          body = n;
          break;
        }
        case 0xc7:
        case 0xc8:
        case 0xc9: {
          const size = 1 << (b - 0xc7);
          const n = readLength(data, pos, size, 'an extension header');
          pos += size;
          body = extLength(n, limits) + 1; // and the type byte
          if (++objects > maxObjects) throw tooManyObjects(maxObjects);
          break;
        }
        case 0xca: // float32
          body = 4;
          break;
        case 0xcb: // float64
          body = 8;
          break;
        case 0xcc:
        case 0xd0:
          body = 1;
          break;
        case 0xcd:
        case 0xd1:
          body = 2;
          break;
        case 0xce:
        case 0xd2:
          body = 4;
          break;
        case 0xcf:
        case 0xd3:
          hasInt64 = true;
          body = 8;
          break;
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          body = extLength(1 << (b - 0xd4), limits) + 1;
          if (++objects > maxObjects) throw tooManyObjects(maxObjects);
          break;
        case 0xd9:
        case 0xda:
        case 0xdb: {
          const size = 1 << (b - 0xd9);
          body = stringLength(readLength(data, pos, size, 'a string header'), limits);
          pos += size;
          break;
        }
        case 0xdc:
        case 0xdd: {
          const size = b === 0xdc ? 2 : 4;
          count = readLength(data, pos, size, 'an array header');
          pos += size;
          if (count > limits.maxArrayLength) throw tooLong('an array', count, 'elements', 'maxArrayLength', limits.maxArrayLength);
          break;
        }
        default: {
          // 0xde, 0xdf: map16, map32
          const size = b === 0xde ? 2 : 4;
          const entries = readLength(data, pos, size, 'a map header');
          pos += size;
          if (entries > limits.maxMapLength) throw tooLong('a map', entries, 'entries', 'maxMapLength', limits.maxMapLength);
          count = entries * 2;
          isMap = true;
        }
      }
    }
    if (count >= 0) {
      if (depth + 1 > maxDepth) throw new PayloadTooDeepError(CODEC, maxDepth);
      if (++objects > maxObjects) throw tooManyObjects(maxObjects);
      // Every value takes at least one byte.
      if (count > end - pos) throw truncated(isMap ? 'a map' : 'an array', count, end - pos);
      if (count > 0) {
        if (depth === outer.length) outer = scanner.stack(depth + 1);
        outer[depth++] = left;
        left = count;
      }
      continue;
    }
    if (body > end - pos) throw truncated('a value', body, end - pos);
    pos += body;
  }
  return hasInt64;
}

/** A big-endian unsigned length of `size` bytes (1, 2 or 4) at `pos`. */
function readLength(data: Uint8Array, pos: number, size: number, what: string): number {
  if (pos + size > data.length) throw truncated(what, size, data.length - pos);
  if (size === 1) return data[pos];
  if (size === 2) return (data[pos] << 8) | data[pos + 1];
  return data[pos] * 0x1000000 + ((data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]);
}

function stringLength(n: number, limits: Required<MsgpackLimits>): number {
  if (n > limits.maxStringLength) throw tooLong('a string', n, 'bytes', 'maxStringLength', limits.maxStringLength);
  return n;
}

function extLength(n: number, limits: Required<MsgpackLimits>): number {
  if (n > limits.maxExtLength) throw tooLong('an extension value', n, 'bytes', 'maxExtLength', limits.maxExtLength);
  return n;
}

function tooLong(what: string, n: number, unit: string, option: string, limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(CODEC, `${what} of ${n} ${unit}`, option, limit);
}

function tooManyObjects(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(CODEC, 'the number of arrays, maps, binaries and extension values', 'maxObjects', limit);
}
