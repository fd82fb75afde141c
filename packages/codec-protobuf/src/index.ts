/**
 * @packageDocumentation
 * Protocol Buffers codec (serialize type 2) for `@rpcx`, on protobufjs or protobuf-es. The
 * payload is the standard protobuf binary encoding of one message, no length prefix, as Go
 * rpcx's `PBCodec` writes with gogo `Marshal` or `proto.Marshal`.
 *
 * A message type (the "schema") is needed in both directions: pass a protobuf-es v2 message
 * schema (`FooSchema` from protoc-gen-es's `foo_pb.ts`), a protobufjs reflection `Type`
 * (`root.lookupType('pkg.Msg')`) or a static-codegen class (pbjs `-t static-module`). The codec
 * only calls a protobufjs schema's own methods, so it works with whichever protobufjs copy
 * built it.
 *
 * @module @rpcx/codec-protobuf
 */
import { create, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { CodecError, PayloadTooDeepError, PayloadTooLargeError, RpcxError, type Codec } from '@rpcx/core';
import type { IConversionOptions, Writer } from 'protobufjs';
import { LONG_TYPES, checkMessage, isReflected, reflectedFromDesc, resolveLimits, type DecodedShape, type ProtobufLimits, type ReflectedField } from './limits.js';

export { DEFAULT_PROTOBUF_LIMITS, type ProtobufLimits } from './limits.js';

/**
 * The schema shape the codec uses: a protobufjs `Type`, or a static-codegen class, or anything
 * with these methods. `fromObject`/`toObject`/`verify` are used when present.
 */
export interface ProtobufSchema {
  encode(message: unknown): Pick<Writer, 'finish'>;
  decode(data: Uint8Array): unknown;
  fromObject?(object: Record<string, unknown>): unknown;
  toObject?(message: unknown, options?: IConversionOptions): Record<string, unknown>;
  verify?(message: Record<string, unknown>): string | null;
}

/**
 * Options of {@link protobufCodec}; the decoding limits are described in {@link ProtobufLimits}.
 * `longs`, `enums`, `defaults`, `oneofs`, `toObject` and `verify` apply to protobufjs schemas:
 * protobuf-es messages always come back as protobuf-es makes them.
 */
export interface ProtobufCodecOptions extends ProtobufLimits {
  /**
   * How decoded 64-bit fields (`int64`, `uint64`, `sint64`, `fixed64`, `sfixed64`) come back.
   * - `'bigint'`: always a `bigint` (exact; one JS type per field, like protobuf-es).
   * - `'string'`: decimal text (exact; JSON-friendly).
   * - `'auto'`: a `number` when it is a safe integer, else a `bigint` (exact; same rule as the
   *   msgpack codec, but the field's JS type then depends on its value).
   * - `'number'`: always a `number` (rounds beyond 2^53).
   *
   * When encoding, 64-bit fields accept `bigint`, `number`, decimal strings and `Long`.
   * @defaultValue `'bigint'`
   */
  longs?: 'bigint' | 'string' | 'auto' | 'number';
  /**
   * How decoded enum fields come back: `'number'` (the wire value, like Go's enum type) or
   * `'string'` (the value's name). Encoding accepts both.
   * @defaultValue `'number'`
   */
  enums?: 'number' | 'string';
  /**
   * Fill fields missing from the payload with their zero values, as a decoded Go struct has
   * them (proto3 does not send zero values).
   * @defaultValue `true`
   */
  defaults?: boolean;
  /**
   * Add a virtual property per `oneof` naming the field that is set.
   * @defaultValue `false`
   */
  oneofs?: boolean;
  /**
   * Return plain objects from `decode` (through the schema's `toObject`). `false` returns the
   * schema's message instance as `decode` made it (faster; 64-bit fields are then `Long`).
   * @defaultValue `true`
   */
  toObject?: boolean;
  /**
   * Run the schema's `verify` before every encode and throw its complaint. `fromObject` (always
   * used) quietly drops values of the wrong type, which `verify` reports; without this option
   * `verify` only runs to explain a failed `fromObject`.
   * @defaultValue `false`
   */
  verify?: boolean;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
const MAX_UINT64 = (1n << 64n) - 1n;
const MIN_INT64 = -(1n << 63n);

/**
 * Creates the Protocol Buffers codec, serialize type 2.
 *
 * `encode(value, schema)`: `value` is a plain object (converted with the schema's `fromObject`)
 * or a message instance. Without a schema, a message instance is encoded with its own type
 * (`$type` of reflection messages, or its class's static `encode`); anything else throws Go's
 * text `<type> is not a proto.Marshaler or pb.Message`.
 *
 * `decode(data, schema)`: returns a plain object (see {@link ProtobufCodecOptions}); without a
 * schema it throws Go's text `<type> is not a proto.Unmarshaler  or pb.Message`.
 */
export function protobufCodec(options: ProtobufCodecOptions = {}): Codec {
  const longs = options.longs ?? 'bigint';
  const plain = options.toObject ?? true;
  const verifyAlways = options.verify ?? false;
  const conversion: IConversionOptions = {
    longs: longs === 'string' ? String : longs === 'number' ? Number : BigInt,
    enums: options.enums === 'string' ? String : undefined,
    defaults: options.defaults ?? true,
    oneofs: options.oneofs ?? false,
  };
  const limits = resolveLimits(options);
  const shape: DecodedShape = !plain ? 'instance' : (conversion.defaults ?? true) ? 'plainWithDefaults' : 'plain';
  // protobuf-es counts the top-level message as a level; maxDepth does not.
  const esReadOptions = { readUnknownFields: false, recursionLimit: limits.maxDepth + 1 };

  return {
    serializeType: 2,
    name: 'protobuf',
    encode(value: unknown, schema?: unknown): Uint8Array {
      if (isDescMessage(schema)) {
        if (value === null || typeof value !== 'object') throw new CodecError(`${typeName(value)} is not a proto.Marshaler or pb.Message`);
        // create() returns a message of this type as it is and builds one from an init object.
        return toBinary(schema, create(schema, value as Parameters<typeof create>[1]));
      }
      const type = isSchema(schema) ? schema : schemaOf(value);
      if (type === undefined) throw new CodecError(`${typeName(value)} is not a proto.Marshaler or pb.Message`);
      const message = toMessage(type, value, verifyAlways, limits.maxDepth);
      try {
        return type.encode(message).finish();
      } catch (err) {
        // A value of the wrong type that fromObject let through (a bigint in an int32 field of
        // an instance): verify names the field.
        throw explained(type, value, err, limits.maxDepth);
      }
    },
    decode(data: Uint8Array, schema?: unknown): unknown {
      if (isDescMessage(schema)) {
        checkLength(data.length, limits.maxLength);
        try {
          checkMessage(data, reflectedFromDesc(schema), limits, 'protobufEs');
          return fromBinary(schema, data, esReadOptions);
        } catch (err) {
          throw asCodecError(err, limits.maxDepth);
        }
      }
      if (!isSchema(schema)) throw new CodecError(`${typeName(schema)} is not a proto.Unmarshaler  or pb.Message`);
      checkLength(data.length, limits.maxLength);
      try {
        if (isReflected(schema)) checkMessage(data, schema, limits, shape);
        const message = schema.decode(data);
        if (!plain || typeof schema.toObject !== 'function') return message;
        const object = schema.toObject(message, conversion);
        return longs === 'auto' ? narrow(object) : object;
      } catch (err) {
        throw asCodecError(err, limits.maxDepth);
      }
    },
  };
}

function checkLength(length: number, maxLength: number): void {
  if (length > maxLength) throw new PayloadTooLargeError('protobuf', `a payload of ${length} bytes`, 'maxLength', maxLength);
}

/**
 * protobufjs's or protobuf-es's own depth limit ("max depth exceeded", "maximum recursion
 * depth of N reached"), or a stack overflow in code without one (static code from older pbjs),
 * is still a payload too deep; anything else is malformed.
 */
function asCodecError(err: unknown, maxDepth: number): Error {
  if (err instanceof RpcxError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (
    message === 'max depth exceeded' ||
    /maximum recursion depth of \d+ reached$/.test(message) ||
    (err instanceof RangeError && message.startsWith('Maximum call stack size exceeded'))
  ) {
    return new PayloadTooDeepError('protobuf', maxDepth);
  }
  return new CodecError(`protobuf: ${message}`, { cause: err });
}

/** A protobuf-es v2 message schema (`DescMessage`, what protoc-gen-es exports as `FooSchema`). */
function isDescMessage(schema: unknown): schema is DescMessage {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    (schema as { kind?: unknown }).kind === 'message' &&
    typeof (schema as { typeName?: unknown }).typeName === 'string' &&
    Array.isArray((schema as { fields?: unknown }).fields)
  );
}

function isSchema(schema: unknown): schema is ProtobufSchema {
  return (
    schema != null &&
    (typeof schema === 'object' || typeof schema === 'function') &&
    typeof (schema as ProtobufSchema).encode === 'function' &&
    typeof (schema as ProtobufSchema).decode === 'function'
  );
}

/** The type a message instance carries: reflection `$type`, or its static-codegen class. */
function schemaOf(value: unknown): ProtobufSchema | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const reflected = (value as { $type?: unknown }).$type;
  if (isSchema(reflected)) return reflected;
  const ctor = (value as object).constructor;
  return ctor !== Object && isSchema(ctor) ? ctor : undefined;
}

function toMessage(type: ProtobufSchema, value: unknown, verifyAlways: boolean, maxDepth: number): unknown {
  if (typeof type.fromObject !== 'function') return value;
  if (value === null || typeof value !== 'object') {
    throw new CodecError(`${typeName(value)} is not a proto.Marshaler or pb.Message`);
  }
  const object = value as Record<string, unknown>;
  if (verifyAlways && typeof type.verify === 'function') {
    const problem = type.verify(object);
    if (problem) throw new CodecError(`protobuf: ${problem}`);
  }
  // protobufjs writes a bigint it finds inside a message instance as 0, and fromObject leaves
  // instances untouched: rebuild those from plain copies so fromObject converts the bigints.
  const fields = isReflected(type) ? bigIntFieldsOf(type) : undefined;
  const found = fields === undefined ? scanBigInts(object, false, 0) : scanFields(object, fields);
  const source = found ? plainCopy(object, 0) : object;
  try {
    return type.fromObject(source as Record<string, unknown>);
  } catch (err) {
    throw explained(type, object, err, maxDepth);
  }
}

/** An encoding failure as a CodecError, with verify's complaint about `value` when it has one. */
function explained(type: ProtobufSchema, value: unknown, err: unknown, maxDepth: number): Error {
  if (err instanceof RpcxError) return err;
  const problem = typeof type.verify === 'function' ? type.verify(value as Record<string, unknown>) : null;
  return problem ? new CodecError(`protobuf: ${problem}`, { cause: err }) : asCodecError(err, maxDepth);
}

/**
 * Range-checks every bigint (Long.fromBigInt would wrap it silently) and reports whether one
 * sits inside a message instance (any object that is not plain). Written for speed: it runs on
 * every encode and costs about a fifth of protobufjs's own fromObject + encode.
 */
function scanBigInts(value: object, inInstance: boolean, depth: number): boolean {
  let found = false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' ? item !== null : typeof item === 'bigint') {
        found = scanValue(item as object | bigint, inInstance, depth) || found;
      }
    }
    return found;
  }
  const record = value as Record<string, unknown>;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    for (const key in record) {
      const item = record[key];
      if (typeof item === 'object' ? item !== null : typeof item === 'bigint') {
        found = scanValue(item as object | bigint, inInstance, depth) || found;
      }
    }
    return found;
  }
  // A message instance: own fields only (protobufjs puts defaults and $type on the prototype).
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === 'object' ? item !== null : typeof item === 'bigint') {
      found = scanValue(item as object | bigint, true, depth) || found;
    }
  }
  return found;
}

function scanValue(value: object | bigint, inInstance: boolean, depth: number): boolean {
  if (typeof value === 'bigint') {
    if (value > MAX_UINT64 || value < MIN_INT64) {
      throw new CodecError(`protobuf: ${value} does not fit in a 64-bit field`);
    }
    return inInstance;
  }
  // A Long (what protobufjs decodes 64-bit fields into) holds no bigint.
  if (ArrayBuffer.isView(value) || (value as { __isLong__?: unknown }).__isLong__ === true || depth >= 100) return false;
  return scanBigInts(value, inInstance, depth + 1);
}

const bigIntFields = new WeakMap<object, string[]>();

/**
 * The fields of a reflection type where a bigint is the right type: 64-bit ones, and those
 * holding messages (map values included), which may hold 64-bit fields. A bigint anywhere else
 * is the wrong type, which fromObject or encode reports; so the scan, which runs on every
 * encode, reads these few fields instead of every field of the message.
 */
function bigIntFieldsOf(type: object): string[] {
  let names = bigIntFields.get(type);
  if (names === undefined) {
    names = [];
    for (const field of (type as { fieldsArray: (ReflectedField & { name: string })[] }).fieldsArray) {
      field.resolve();
      if (LONG_TYPES.has(field.type) || isReflected(field.resolvedType)) names.push(field.name);
    }
    bigIntFields.set(type, names);
  }
  return names;
}

/** {@link scanBigInts} over the named fields of a message (a plain object or an instance). */
function scanFields(message: Record<string, unknown>, names: readonly string[]): boolean {
  const proto = Object.getPrototypeOf(message);
  const inInstance = proto !== Object.prototype && proto !== null;
  let found = false;
  for (let i = 0; i < names.length; i++) {
    const item = message[names[i]];
    if (typeof item === 'object' ? item !== null : typeof item === 'bigint') {
      found = scanValue(item as object | bigint, inInstance, 0) || found;
    }
  }
  return found;
}

function plainCopy(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || depth > 100) return value;
  if (Array.isArray(value)) return value.map((item) => plainCopy(item, depth + 1));
  // Long values ({low, high, unsigned}) copy fine: fromObject reads those three fields.
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) out[key] = plainCopy((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

/** bigint → number where exact, in place (toObject's output is ours). */
function narrow(value: unknown): unknown {
  if (typeof value === 'bigint') return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = narrow(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = narrow(record[key]);
  return value;
}

/** A short stand-in for Go's `%T`. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'Object';
  return typeof value;
}
