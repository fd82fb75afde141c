/**
 * @packageDocumentation
 * Thrift codec (serialize type 4) for `@rpcx`. The payload is the plain TBinaryProtocol encoding
 * of one struct — no message envelope, no framing — as Go rpcx's `ThriftCodec` writes with
 * `TSerializer` + `TBinaryProtocol`.
 *
 * The schema is a struct class from the Thrift compiler (`thrift --gen js:node`, any of its
 * `ts`/`es6`/`bigint` flavours, 0.9 through 0.24) or a hand-written class of the same shape.
 *
 * @module @rpcx/codec-thrift
 */
import { CodecError, RpcxError, type Codec } from '@rpcx/core';
import { TBinaryReader, TBinaryWriter, resolveLimits, type I64Mode, type ThriftLimits } from './protocol.js';

export {
  TType,
  TMessageType,
  TBinaryReader,
  TBinaryWriter,
  MAX_RECURSION_DEPTH,
  DEFAULT_THRIFT_LIMITS,
  type ThriftLimits,
  type I64Mode,
  type I64Value,
} from './protocol.js';

/** Options of {@link thriftCodec}; the decoding limits are described in {@link ThriftLimits}. */
export interface ThriftCodecOptions extends ThriftLimits {
  /**
   * What the protocol's `readI64` hands to the struct's `read`:
   * - `'int64'`: a node-int64 `Int64`, what every flavour of generated code expects (the
   *   `js:node,bigint` flavour converts it with `thrift.toBigInt`, and breaks on anything else);
   * - `'bigint'`: exact `bigint`s, for hand-written structs and plain `js:node` code (its i64
   *   fields then hold `bigint`s, and `map<i64, …>` keys stay exact instead of going through
   *   `Int64#toString`, which gives `Infinity` beyond 2^53).
   *
   * `writeI64` takes either, and also a safe-integer `number` or a decimal string.
   * @defaultValue `'int64'`
   */
  i64?: I64Mode;
}

/**
 * A struct class: `new Struct(fields?)` makes an instance whose `write(protocol)` writes it and
 * `read(protocol)` fills it. Since Thrift 0.21 the generated methods are named
 * `Symbol.for('write')`/`Symbol.for('read')` (so fields may be called `read`/`write`); both
 * spellings work. A class with a static `read(protocol)` returning the value also works.
 */
export type ThriftStructClass = new (fields?: Record<string, unknown>) => object;

const WRITE = Symbol.for('write');
const READ = Symbol.for('read');

type Method = (this: unknown, protocol: unknown) => unknown;

/**
 * Creates the Thrift codec, serialize type 4.
 *
 * `encode(value, schema?)`: `value` is a struct instance, or a plain object that `new
 * schema(value)` turns into one (generated constructors copy the fields they know). Anything
 * else throws Go's text `type assertion failed`.
 *
 * `decode(data, schema)`: reads one struct and returns the instance. Bytes after the struct's
 * stop byte are ignored, as Go's `TDeserializer` does.
 */
export function thriftCodec(options: ThriftCodecOptions = {}): Codec {
  const i64 = options.i64 ?? 'int64';
  const limits = resolveLimits(options);
  // One writer reused across calls; a struct whose write() encodes again gets its own.
  const shared = new TBinaryWriter();
  let busy = false;

  return {
    serializeType: 4,
    name: 'thrift',
    encode(value: unknown, schema?: unknown): Uint8Array {
      const struct = toStruct(value, schema);
      const write = methodOf(struct, WRITE, 'write');
      if (write === undefined) {
        throw new CodecError(`type assertion failed: ${typeName(value)} is not a thrift struct (no write(protocol) method)`);
      }
      const writer = busy ? new TBinaryWriter() : shared;
      const owned = writer === shared;
      if (owned) busy = true;
      try {
        writer.reset();
        write.call(struct, writer);
        return writer.toBytes();
      } finally {
        if (owned) busy = false;
      }
    },
    decode(data: Uint8Array, schema?: unknown): unknown {
      if (typeof schema !== 'function') {
        throw new CodecError(`thrift: decoding needs the struct class as schema, got ${typeName(schema)}`);
      }
      const reader = new TBinaryReader(data, i64, limits);
      const staticRead = (schema as unknown as { read?: unknown }).read;
      if (typeof staticRead === 'function') return readWith(() => staticRead.call(schema, reader));
      const struct = new (schema as ThriftStructClass)();
      const read = methodOf(struct, READ, 'read');
      if (read === undefined) throw new CodecError(`thrift: ${schema.name || 'schema'} has no read(protocol) method`);
      readWith(() => read.call(struct, reader));
      return struct;
    },
  };
}

/** Runs generated read code; what it throws on a bad payload becomes a CodecError. */
function readWith<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof RpcxError) throw err;
    const message = (err as Error)?.message ?? String(err);
    throw new CodecError(message.startsWith('thrift: ') ? message : `thrift: ${message}`, { cause: err });
  }
}

function toStruct(value: unknown, schema: unknown): unknown {
  if (value !== null && typeof value === 'object') {
    if (methodOf(value, WRITE, 'write') !== undefined) return value;
    if (typeof schema === 'function') return new (schema as ThriftStructClass)(value as Record<string, unknown>);
  }
  return value;
}

function methodOf(target: unknown, symbol: symbol, name: string): Method | undefined {
  if (target === null || typeof target !== 'object') return undefined;
  const record = target as Record<string | symbol, unknown>;
  const method = typeof record[symbol] === 'function' ? record[symbol] : record[name];
  return typeof method === 'function' ? (method as Method) : undefined;
}

/** A short stand-in for Go's `%T`. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return value.name || 'function';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'Object';
  return typeof value;
}
