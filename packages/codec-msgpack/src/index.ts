/**
 * @packageDocumentation
 * MessagePack codec (serialize type 3, the codec of Go rpcx's `DefaultOption`) for `@rpcx`, on
 * `@msgpack/msgpack`. Reads every integer width Go's vmihailenco/msgpack v5 writes; 64-bit
 * values beyond 2^53 come back as `bigint`, and `bigint` is written as int64/uint64. Go
 * `time.Time` ↔ JS `Date` through the timestamp extension (type −1).
 *
 * Struct keys are whatever the JS object has. Go matches them to field names exactly and
 * case-sensitively (`A`, `FileName`) unless the Go type has `msgpack:"…"` tags; rpcx ignores
 * `json` tags for msgpack.
 *
 * @module @rpcx/codec-msgpack
 */
import { CodecError, RpcxError, type Codec } from '@rpcx/core';
import { Decoder, Encoder, ExtData, ExtensionCodec } from '@msgpack/msgpack';
import { PayloadScanner, resolveLimits, type MsgpackLimits } from './scan.js';

export { DEFAULT_MSGPACK_LIMITS, type MsgpackLimits } from './scan.js';

/** Options of {@link msgpackCodec}; the decoding limits are described in {@link MsgpackLimits}. */
export interface MsgpackCodecOptions extends MsgpackLimits {
  /**
   * What 64-bit wire integers (`cf` uint64, `d3` int64) decode to.
   * - `'auto'`: a `number` when it is a safe integer (|v| ≤ 2^53 − 1), else a `bigint`.
   * - `'bigint'`: always a `bigint`, so a Go `int64` field always has the same JS type
   *   (Go writes sized ints at fixed width, so an `int64` field is always `d3`).
   *
   * Narrower wire integers are always `number`.
   * @defaultValue `'auto'`
   */
  int64?: 'auto' | 'bigint';
  /**
   * Leave out object properties whose value is `undefined` instead of writing nil. Go decodes
   * nil into a zero value either way; leaving them out makes payloads smaller.
   * @defaultValue `false`
   */
  ignoreUndefined?: boolean;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
const MAX_UINT64 = (1n << 64n) - 1n;
const MIN_INT64 = -(1n << 63n);

/** Thrown inside the fast encoder to switch to the bigint-aware path. Never escapes. */
const NEEDS_WIDE_PATH = Symbol('needs-wide-path');

/**
 * @msgpack/msgpack's `useBigInt64` is all-or-nothing: with it, decoding makes every 64-bit value
 * a bigint and encoding writes safe integers ≥ 2^32 as float64, which Go would read as a float.
 * So the common case runs on plain encoders/decoders and only payloads that need it take the
 * bigint-aware path (see encode/decode below).
 */
export function msgpackCodec(options: MsgpackCodecOptions = {}): Codec {
  const int64 = options.int64 ?? 'auto';
  const ignoreUndefined = options.ignoreUndefined ?? false;

  // Plain encoder: a guard extension sees every non-primitive (and bigint, which it treats as
  // one) before encoding, and bails out on the values only the wide path handles.
  const guard = new ExtensionCodec();
  guard.register({
    type: 0,
    encode(input: unknown): null {
      if (typeof input === 'bigint' || input instanceof Map) throw NEEDS_WIDE_PATH;
      return null;
    },
    decode: (data: Uint8Array) => new ExtData(0, data),
  });
  const fastEncoder = new Encoder({ extensionCodec: guard, ignoreUndefined });
  const wideEncoder = new Encoder({ useBigInt64: true, ignoreUndefined });

  const numberDecoder = new Decoder({ mapKeyConverter: convertMapKey });
  const bigintDecoder = new Decoder({ useBigInt64: true, mapKeyConverter: convertMapKey });
  const scanner = new PayloadScanner(resolveLimits(options));

  return {
    serializeType: 3,
    name: 'msgpack',
    encode(value: unknown): Uint8Array {
      // `encode` returns a right-sized copy of the encoder's reused buffer, which the caller
      // may keep (`encodeSharedRef` would alias the next call's output).
      try {
        return fastEncoder.encode(value);
      } catch (err) {
        if (err !== NEEDS_WIDE_PATH) throw err;
      }
      return wideEncoder.encode(widen(value, 0));
    },
    decode(data: Uint8Array): unknown {
      // The scan enforces the limits before the library allocates anything, and tells
      // whether a 64-bit integer is present: without one the plain decoder is exact.
      const hasInt64 = scanner.scan(data);
      try {
        if (!hasInt64) return numberDecoder.decode(data);
        const value = bigintDecoder.decode(data);
        return int64 === 'auto' ? narrow(value) : value;
      } catch (err) {
        if (err instanceof RpcxError) throw err;
        throw new CodecError(`msgpack: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

/** Map keys arrive as JS object keys, so any integer key becomes its decimal text. */
function convertMapKey(key: unknown): string | number {
  if (typeof key === 'string' || typeof key === 'number') return key;
  if (typeof key === 'bigint') return key.toString();
  throw new CodecError(`msgpack: map key of type ${typeof key} cannot become an object key`);
}

/** bigint → number where exact, in place (the decoder's output is ours to change). */
function narrow(value: unknown): unknown {
  if (typeof value === 'bigint') return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = narrow(value[i]);
    return value;
  }
  if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof ExtData) return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = narrow(record[key]);
  return value;
}

/**
 * A copy of `value` the `useBigInt64` encoder writes the way Go expects: integers outside the
 * 32-bit range become bigint (else that encoder would write them as float64), bigints are
 * range-checked (DataView would wrap them silently), Maps become objects.
 */
function widen(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'number':
      if (Number.isSafeInteger(value) && (value > 0xffffffff || value < -0x80000000)) return BigInt(value);
      return value;
    case 'bigint':
      if (value > MAX_UINT64 || value < MIN_INT64) {
        throw new CodecError(`msgpack: ${value} does not fit in int64 or uint64`);
      }
      return value;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return value;
  // Same limit as the encoder's own maxDepth, so a cycle fails here with a clear error.
  if (depth > 100) throw new CodecError(`msgpack: too deep objects in depth ${depth}`);
  if (Array.isArray(value)) return value.map((item) => widen(item, depth + 1));
  if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof ExtData) return value;
  // Null prototype: a "__proto__" key stays a plain key, as the encoder's Object.keys sees it.
  const out: Record<string, unknown> = Object.create(null);
  if (value instanceof Map) {
    for (const [key, item] of value) {
      if (typeof key !== 'string' && typeof key !== 'number') {
        throw new CodecError(`msgpack: Map key of type ${typeof key} is not supported (use string keys)`);
      }
      out[String(key)] = widen(item, depth + 1);
    }
    return out;
  }
  for (const key of Object.keys(value)) out[key] = widen((value as Record<string, unknown>)[key], depth + 1);
  return out;
}
