/**
 * TBinaryProtocol over memory: the method set that code from the Thrift compiler (`--gen
 * js:node`, with or without `ts`, `es6`, `bigint`) calls on its `input`/`output`, written
 * against one growable buffer instead of the `thrift` package's transports.
 *
 * Why not the `thrift` package's own TBinaryProtocol: it `require`s the ESM-only `uuid`, which
 * jest's module loader cannot load on Node 20; and it allocates one Buffer per written field.
 * Byte output is the same (checked in the tests against the library run under plain Node).
 */
import Int64 from 'node-int64';
import { CodecError, PayloadTooDeepError, PayloadTooLargeError, positiveIntegerOptions } from '@rpcx/core';

/** Thrift wire types (same numbers as `Thrift.Type` in the `thrift` package). */
export const TType = {
  STOP: 0,
  VOID: 1,
  BOOL: 2,
  BYTE: 3,
  I08: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  UTF7: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15,
  UUID: 16,
} as const;

/** Thrift `MessageType`, for `writeMessageBegin`. */
export const TMessageType = { CALL: 1, REPLY: 2, EXCEPTION: 3, ONEWAY: 4 } as const;

/** What `readI64` returns: node-int64 `Int64` (what generated code expects) or `bigint`. */
export type I64Mode = 'int64' | 'bigint';

/** A value `writeI64` accepts. */
export type I64Value = Int64 | { buffer: Uint8Array; offset?: number } | bigint | number | string;

const VERSION_1 = 0x80010000 | 0;
const VERSION_MASK = 0xffff0000 | 0;
/** Same as the `thrift` package's DEFAULT_RECURSION_DEPTH. */
export const MAX_RECURSION_DEPTH = 64;
const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;

/**
 * Decoding limits of {@link TBinaryReader}; a payload over one fails with a
 * `PayloadTooDeepError` or `PayloadTooLargeError` (from @rpcx/core). Each must be a positive
 * integer.
 */
export interface ThriftLimits {
  /**
   * Deepest nesting of structs, lists, sets and maps: the top-level struct is depth 1. Counted
   * by the reader itself (in `readStructBegin` and the container reads), so it holds for code
   * from any Thrift compiler, including those that never call `incrementRecursionDepth`. 64 is
   * the `thrift` package's and Go thrift's `DEFAULT_RECURSION_DEPTH`.
   * @defaultValue `64`
   */
  maxDepth?: number;
  /**
   * Most structs, lists, sets, maps, binaries and `Int64` values (with `i64: 'int64'`) one
   * payload may decode into: each becomes a JS object. Bounds the memory one payload can take:
   * an empty struct is one byte on the wire.
   * @defaultValue `1048576` (1 Mi)
   */
  maxObjects?: number;
  /** Longest string or binary, in bytes. @defaultValue `67108864` (64 MiB) */
  maxStringLength?: number;
  /** Most elements of one list or set, or entries of one map. @defaultValue `67108864` */
  maxContainerLength?: number;
}

export const DEFAULT_THRIFT_LIMITS: Readonly<Required<ThriftLimits>> = Object.freeze({
  maxDepth: MAX_RECURSION_DEPTH,
  maxObjects: 1024 * 1024,
  maxStringLength: 64 * 1024 * 1024,
  maxContainerLength: 64 * 1024 * 1024,
});

export function resolveLimits(options: ThriftLimits): Required<ThriftLimits> {
  return positiveIntegerOptions('thrift', DEFAULT_THRIFT_LIMITS, options);
}

/** A malformed payload or a value the protocol cannot write: a CodecError `thrift: <what>`. */
function protocolError(message: string): CodecError {
  return new CodecError(`thrift: ${message}`);
}

/** Writes TBinaryProtocol into a buffer that grows as needed and is reused by {@link reset}. */
export class TBinaryWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private pos = 0;
  private depth = 0;

  constructor(initialSize = 256) {
    this.bytes = new Uint8Array(initialSize);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Starts over; the buffer is kept. */
  reset(): void {
    this.pos = 0;
    this.depth = 0;
  }

  /** A copy of what was written, which the caller may keep. */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }

  private ensure(size: number): void {
    const need = this.pos + size;
    if (need <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  // Generated code calls these; only depth and the field/stop bytes matter on the wire.
  incrementRecursionDepth(): void {
    if (++this.depth > MAX_RECURSION_DEPTH) {
      this.depth--;
      throw protocolError('maximum recursion depth exceeded');
    }
  }
  decrementRecursionDepth(): void {
    this.depth--;
  }
  writeStructBegin(_name?: string): void {}
  writeStructEnd(): void {}
  writeFieldBegin(_name: string | null, type: number, id: number): void {
    this.writeByte(type);
    this.writeI16(id);
  }
  writeFieldEnd(): void {}
  writeFieldStop(): void {
    this.writeByte(TType.STOP);
  }
  writeMapBegin(keyType: number, valueType: number, size: number): void {
    this.writeByte(keyType);
    this.writeByte(valueType);
    this.writeI32(size);
  }
  writeMapEnd(): void {}
  writeListBegin(elemType: number, size: number): void {
    this.writeByte(elemType);
    this.writeI32(size);
  }
  writeListEnd(): void {}
  writeSetBegin(elemType: number, size: number): void {
    this.writeByte(elemType);
    this.writeI32(size);
  }
  writeSetEnd(): void {}

  /** Strict (versioned) message header, as Go's default `strictWrite: true`. Not used for structs. */
  writeMessageBegin(name: string, type: number, seqid: number): void {
    this.writeI32(VERSION_1 | type);
    this.writeString(name);
    this.writeI32(seqid);
  }
  writeMessageEnd(): void {}

  writeBool(value: boolean): void {
    this.writeByte(value ? 1 : 0);
  }
  writeByte(value: number): void {
    this.ensure(1);
    this.bytes[this.pos++] = value & 0xff;
  }
  writeI16(value: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }
  writeI32(value: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }
  writeI64(value: I64Value): void {
    this.ensure(8);
    if (typeof value === 'object' && value !== null && value.buffer instanceof Uint8Array) {
      // node-int64 Int64 (from generated code or thrift.fromBigInt): its 8 big-endian bytes.
      const offset = value.offset ?? 0;
      this.bytes.set(value.buffer.subarray(offset, offset + 8), this.pos);
    } else {
      this.view.setBigInt64(this.pos, toI64(value));
    }
    this.pos += 8;
  }
  writeDouble(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }
  writeString(value: string | Uint8Array): void {
    if (typeof value !== 'string') {
      this.writeBinary(value);
      return;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.ensure(4 + value.length * 3);
    const written = Buffer.from(this.bytes.buffer, this.bytes.byteOffset).write(value, this.pos + 4, 'utf8');
    this.view.setInt32(this.pos, written);
    this.pos += 4 + written;
  }
  writeBinary(value: Uint8Array | string): void {
    if (typeof value === 'string') {
      // The thrift package writes a string given as binary byte-per-char ("binary" = latin1).
      value = Buffer.from(value, 'latin1');
    } else if (!(value instanceof Uint8Array)) {
      throw protocolError(`writeBinary called without a string/Uint8Array argument: ${String(value)}`);
    }
    this.writeI32(value.length);
    this.ensure(value.length);
    this.bytes.set(value, this.pos);
    this.pos += value.length;
  }
  writeUuid(value: string): void {
    const hex = value.replace(/-/g, '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw protocolError(`invalid uuid: ${value}`);
    this.ensure(16);
    this.bytes.set(Buffer.from(hex, 'hex'), this.pos);
    this.pos += 16;
  }

  /** Generated service code flushes through the transport; structs never need it. */
  getTransport(): { flush(): void } {
    return { flush() {} };
  }
  flush(): void {}
}

function toI64(value: bigint | number | string | unknown): bigint {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw protocolError(`i64 ${value} is not a safe integer: pass a bigint or a decimal string`);
    }
    big = BigInt(value);
  } else if (typeof value === 'string') {
    // Decimal, like thrift.fromBigInt (map<i64, …> keys reach writeI64 as object-key strings).
    // node-int64 would read a string as hex, which is never what such a key means.
    try {
      big = BigInt(value);
    } catch {
      throw protocolError(`i64 ${JSON.stringify(value)} is not a decimal integer`);
    }
  } else {
    throw protocolError(`cannot write ${typeof value} as i64`);
  }
  if (big > MAX_I64 || big < MIN_I64) throw protocolError(`i64 ${big} is out of range`);
  return big;
}

/**
 * Reads TBinaryProtocol from one payload; values read never alias the payload's memory.
 * `limits` are checked as it reads (see {@link ThriftLimits}).
 */
export class TBinaryReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly limits: Required<ThriftLimits>;
  private pos = 0;
  private depth = 0;
  private objects = 0;
  /** The open maps, innermost last: where their next key is read (see `checkMapKey`). */
  private readonly maps: { depth: number; stringKeys: boolean; reads: number }[] = [];

  constructor(
    data: Uint8Array,
    private readonly i64: I64Mode = 'int64',
    limits: Required<ThriftLimits> = DEFAULT_THRIFT_LIMITS,
  ) {
    this.bytes = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.limits = limits;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(size: number): number {
    if (size > this.bytes.length - this.pos) {
      throw protocolError(`unexpected end of data: need ${size} byte(s) at offset ${this.pos}`);
    }
    const at = this.pos;
    this.pos += size;
    return at;
  }

  private size(size: number, what: string, minElementSize: number): number {
    if (size < 0) throw protocolError(`negative ${what} size ${size}`);
    const isString = what === 'string' || what === 'binary' || what === 'name';
    const limit = isString ? this.limits.maxStringLength : this.limits.maxContainerLength;
    if (size > limit) {
      const option = isString ? 'maxStringLength' : 'maxContainerLength';
      throw new PayloadTooLargeError('thrift', `a ${what} of ${size} ${isString ? 'bytes' : what === 'map' ? 'entries' : 'elements'}`, option, limit);
    }
    // Each element takes at least one byte: refuse counts the payload cannot hold before a
    // generated read loop spins on them.
    if (size * minElementSize > this.remaining) {
      throw protocolError(`${what} size ${size} exceeds the ${this.remaining} byte(s) left`);
    }
    return size;
  }

  /** One more JS object (a struct, container, binary or Int64) for `maxObjects`. */
  private countObject(): void {
    if (++this.objects > this.limits.maxObjects) {
      throw new PayloadTooLargeError('thrift', 'the number of structs, containers, binaries and i64 objects', 'maxObjects', this.limits.maxObjects);
    }
  }

  /** A struct or container starts: one level deeper, one object more. */
  private enter(): void {
    if (++this.depth > this.limits.maxDepth) throw new PayloadTooDeepError('thrift', this.limits.maxDepth);
    this.countObject();
  }

  private leave(): void {
    this.depth--;
    this.valueRead();
  }

  /** A whole value (primitive, struct or container) was read at the current depth. */
  private valueRead(): void {
    const map = this.maps.at(-1);
    if (map !== undefined && map.depth === this.depth) map.reads++;
  }

  /**
   * Generated code stores a map in a plain object (`this.m[key] = value`), where the key
   * `__proto__` sets the object's prototype instead of adding an entry: refuse it rather than
   * hand back a map that silently lost an entry and inherits from its value.
   */
  private checkMapKey(key: string): void {
    const map = this.maps.at(-1);
    if (key === '__proto__' && map !== undefined && map.stringKeys && map.depth === this.depth && map.reads % 2 === 0) {
      throw protocolError('map key "__proto__" refused: generated code keeps maps in plain objects, where it would replace the prototype');
    }
  }

  // Code from Thrift 0.21 on calls these around each struct; the reader counts depth in
  // readStructBegin and the container reads instead, which every generated version calls.
  incrementRecursionDepth(): void {}
  decrementRecursionDepth(): void {}
  readStructBegin(): { fname: string } {
    this.enter();
    return { fname: '' };
  }
  readStructEnd(): void {
    this.leave();
  }
  readFieldBegin(): { fname: null; ftype: number; fid: number } {
    const ftype = this.int8();
    if (ftype === TType.STOP) return { fname: null, ftype, fid: 0 };
    return { fname: null, ftype, fid: this.view.getInt16(this.need(2)) };
  }
  readFieldEnd(): void {}
  readMapBegin(): { ktype: number; vtype: number; size: number } {
    const ktype = this.int8();
    const vtype = this.int8();
    const size = this.size(this.int32(), 'map', 2);
    this.enter();
    this.maps.push({ depth: this.depth, stringKeys: ktype === TType.STRING, reads: 0 });
    return { ktype, vtype, size };
  }
  readMapEnd(): void {
    this.maps.pop();
    this.leave();
  }
  readListBegin(): { etype: number; size: number } {
    const etype = this.int8();
    const size = this.size(this.int32(), 'list', 1);
    this.enter();
    return { etype, size };
  }
  readListEnd(): void {
    this.leave();
  }
  readSetBegin(): { etype: number; size: number } {
    const etype = this.int8();
    const size = this.size(this.int32(), 'set', 1);
    this.enter();
    return { etype, size };
  }
  readSetEnd(): void {
    this.leave();
  }

  readMessageBegin(): { fname: string; mtype: number; rseqid: number } {
    const first = this.int32();
    if (first < 0) {
      if ((first & VERSION_MASK) !== VERSION_1) throw protocolError(`bad version in readMessageBegin: ${first}`);
      const fname = this.readString();
      return { fname, mtype: first & 0xff, rseqid: this.int32() };
    }
    // Old, unversioned header: name length, name, type byte, seqid.
    const at = this.need(this.size(first, 'name', 1));
    const fname = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + at, first).toString('utf8');
    const mtype = this.int8();
    return { fname, mtype, rseqid: this.int32() };
  }
  readMessageEnd(): void {}

  // The read* methods are what generated code calls for values: each counts as one value for
  // map key tracking. The protocol's own framing reads use these two instead.
  private int8(): number {
    return this.view.getInt8(this.need(1));
  }
  private int32(): number {
    return this.view.getInt32(this.need(4));
  }

  readBool(): boolean {
    return this.readByte() !== 0;
  }
  readByte(): number {
    const value = this.int8();
    this.valueRead();
    return value;
  }
  readI16(): number {
    const value = this.view.getInt16(this.need(2));
    this.valueRead();
    return value;
  }
  readI32(): number {
    const value = this.int32();
    this.valueRead();
    return value;
  }
  readI64(): Int64 | bigint {
    const at = this.need(8);
    this.valueRead();
    if (this.i64 === 'bigint') return this.view.getBigInt64(at);
    this.countObject();
    // A copy: an Int64 keeps its buffer, which must not change under it.
    return new Int64(Buffer.from(this.bytes.subarray(at, at + 8)));
  }
  readDouble(): number {
    const value = this.view.getFloat64(this.need(8));
    this.valueRead();
    return value;
  }
  readString(): string {
    const length = this.size(this.int32(), 'string', 1);
    const at = this.need(length);
    const value = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + at, length).toString('utf8');
    this.checkMapKey(value);
    this.valueRead();
    return value;
  }
  readBinary(): Buffer {
    const length = this.size(this.int32(), 'binary', 1);
    const at = this.need(length);
    this.countObject();
    const value = Buffer.from(this.bytes.subarray(at, at + length));
    // A binary key becomes its text as an object key.
    if (length === 9) this.checkMapKey(value.toString('latin1'));
    this.valueRead();
    return value;
  }
  readUuid(): string {
    const at = this.need(16);
    this.valueRead();
    const hex = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + at, 16).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /**
   * Skips one value of `type`; generated code calls it for unknown or mistyped fields. Skipped
   * structs and containers count towards `maxDepth` and `maxObjects` like read ones.
   */
  skip(type: number): void {
    switch (type) {
      case TType.BOOL:
      case TType.BYTE:
        this.need(1);
        return;
      case TType.I16:
        this.need(2);
        return;
      case TType.I32:
        this.need(4);
        return;
      case TType.I64:
      case TType.DOUBLE:
        this.need(8);
        return;
      case TType.STRING:
        this.need(this.size(this.int32(), 'string', 1));
        return;
      case TType.UUID:
        this.need(16);
        return;
      case TType.STRUCT:
        this.readStructBegin();
        for (;;) {
          const { ftype } = this.readFieldBegin();
          if (ftype === TType.STOP) break;
          this.skip(ftype);
        }
        this.readStructEnd();
        return;
      case TType.MAP: {
        const { ktype, vtype, size } = this.readMapBegin();
        for (let i = 0; i < size; i++) {
          this.skip(ktype);
          this.skip(vtype);
        }
        this.readMapEnd();
        return;
      }
      case TType.SET:
      case TType.LIST: {
        const { etype, size } = type === TType.SET ? this.readSetBegin() : this.readListBegin();
        for (let i = 0; i < size; i++) this.skip(etype);
        this.leave();
        return;
      }
      default:
        throw protocolError(`invalid type ${type}`);
    }
  }

  getTransport(): { flush(): void } {
    return { flush() {} };
  }
}
