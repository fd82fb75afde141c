/**
 * Decoding limits of the protobuf codec. With a protobufjs reflection `Type` as schema the
 * payload is walked once, with the schema, before it is decoded: the walk reads tags and
 * lengths only, so it knows which length-delimited fields are messages (nesting), and counts
 * the JS objects decoding will make. protobufjs itself stops at 100 levels
 * (`Reader.recursionLimit`, a global of each protobufjs copy) but has no object limit: a
 * repeated field of empty messages is two bytes per element on the wire and, through
 * `toObject` with defaults, a few hundred bytes of heap each.
 */
import { ScalarType, type DescMessage } from '@bufbuild/protobuf';
import { PayloadTooDeepError, PayloadTooLargeError, positiveIntegerOptions } from '@rpcx/core';

/**
 * Decoding limits; a payload over one fails with a `PayloadTooDeepError` or
 * `PayloadTooLargeError` (from @rpcx/core) before it is decoded. Each must be a positive integer.
 */
export interface ProtobufLimits {
  /**
   * Deepest nesting of messages (and groups): a message field of the top-level message is
   * depth 1. 100 is the default of protobufjs, C++ and Java protobuf (Go's is 10000);
   * protobufjs refuses more than its own `Reader.recursionLimit` (100) whatever this says.
   * Checked with reflection schemas; static-codegen classes rely on their own limit.
   * @defaultValue `100`
   */
  maxDepth?: number;
  /**
   * Most JS objects one payload may decode into: messages (twice with `toObject`), the empty
   * arrays and maps `toObject` fills in for their repeated and map fields when `defaults` is
   * on, `bytes` values and 64-bit integers. Bounds the memory one payload can take. Checked
   * with reflection schemas.
   * @defaultValue `1048576` (1 Mi)
   */
  maxObjects?: number;
  /**
   * Longest payload, in bytes; checked for every schema. The default is rpcx's default frame
   * limit, so a payload that fits in a default frame never reaches it.
   * @defaultValue `67108864` (64 MiB)
   */
  maxLength?: number;
}

export const DEFAULT_PROTOBUF_LIMITS: Readonly<Required<ProtobufLimits>> = Object.freeze({
  maxDepth: 100,
  maxObjects: 1024 * 1024,
  maxLength: 64 * 1024 * 1024,
});

export function resolveLimits(options: ProtobufLimits): Required<ProtobufLimits> {
  return positiveIntegerOptions('protobuf', DEFAULT_PROTOBUF_LIMITS, options);
}

/**
 * The parts of a protobufjs reflection `Type` and `Field` the walk reads (7.x and 8.x alike);
 * a protobuf-es message descriptor is read through the same shape ({@link reflectedFromDesc}).
 */
interface ReflectedType {
  fieldsArray: ReflectedField[];
  oneofsArray?: unknown[];
  group?: boolean;
}
export interface ReflectedField {
  id: number;
  type: string;
  repeated: boolean;
  map?: boolean;
  delimited?: boolean;
  resolvedType: unknown;
  resolve(): unknown;
}

export function isReflected(schema: unknown): schema is ReflectedType {
  return typeof schema === 'object' && schema !== null && Array.isArray((schema as { fieldsArray?: unknown }).fieldsArray);
}

/**
 * What decoding makes of one message, which sets how many objects it counts:
 * - `instance`: a protobufjs message instance (one object);
 * - `plain`: an instance and the plain object `toObject` makes of it (two);
 * - `plainWithDefaults`: as `plain`, plus the empty array or object `toObject` fills in for
 *   each repeated or map field;
 * - `protobufEs`: a protobuf-es message (one object, plus the array or object it always has
 *   for each repeated or map field and the `{ case }` object of each oneof).
 */
export type DecodedShape = 'instance' | 'plain' | 'plainWithDefaults' | 'protobufEs';

const ES_LONG_SCALARS = new Set<number>([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);
const reflectedDescs = new WeakMap<DescMessage, ReflectedType>();

/**
 * A protobuf-es message descriptor seen as the protobufjs shape the walk reads. Made once per
 * descriptor; message fields resolve lazily, so recursive types need no special care.
 */
export function reflectedFromDesc(desc: DescMessage): ReflectedType {
  let reflected = reflectedDescs.get(desc);
  if (reflected === undefined) {
    reflected = {
      oneofsArray: desc.oneofs,
      fieldsArray: desc.fields.map((field) => {
        const message = field.message;
        const long = (field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')) && ES_LONG_SCALARS.has(field.scalar!);
        const bytes = field.fieldKind === 'scalar' && field.scalar === ScalarType.BYTES;
        return {
          id: field.number,
          // Only the types the walk tells apart: bytes, the 64-bit integers, and the rest.
          type: bytes ? 'bytes' : long ? 'int64' : 'other',
          repeated: field.fieldKind === 'list',
          map: field.fieldKind === 'map',
          delimited: field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message') ? field.delimitedEncoding : false,
          get resolvedType() {
            return message === undefined ? undefined : reflectedFromDesc(message);
          },
          resolve() {
            return this;
          },
        };
      }),
    };
    reflectedDescs.set(desc, reflected);
  }
  return reflected;
}

const enum Kind {
  Other,
  Message,
  Group,
  MapOfMessages,
  Bytes,
  Long,
}

interface FieldLayout {
  kind: Kind;
  /** The message type of a message or group field. */
  type: ReflectedType | undefined;
  /** The fields of a map entry whose value is a message. */
  entry: Layout | undefined;
}

interface Layout {
  /** Objects one message of this type becomes. */
  weight: number;
  /** No field holds a message: nothing can nest, and each other counted object takes a byte. */
  flat: boolean;
  /** The fields the walk looks into, by number; the rest (strings, numbers, …) are skipped. */
  fields: Map<number, FieldLayout>;
}

/** The protobuf types of 64-bit integer fields. */
export const LONG_TYPES: ReadonlySet<string> = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** Per reflection type, what each field number holds; made once, on first use. */
const layouts = new WeakMap<object, Record<DecodedShape, Layout>>();

function layoutOf(type: ReflectedType, shape: DecodedShape): Layout {
  let cached = layouts.get(type);
  if (cached === undefined) {
    const fields = new Map<number, FieldLayout>();
    let filledIn = 0;
    for (const field of type.fieldsArray) {
      field.resolve();
      const resolved = field.resolvedType;
      const message = isReflected(resolved) ? resolved : undefined;
      if (field.repeated || field.map) filledIn++;
      let kind = Kind.Other;
      if (field.map) kind = message ? Kind.MapOfMessages : Kind.Other;
      else if (message) kind = field.delimited === true || message.group === true ? Kind.Group : Kind.Message;
      else if (field.type === 'bytes') kind = Kind.Bytes;
      else if (LONG_TYPES.has(field.type)) kind = Kind.Long;
      if (kind === Kind.MapOfMessages) fields.set(field.id, { kind, type: undefined, entry: mapEntryLayout(message!) });
      else if (kind !== Kind.Other) fields.set(field.id, { kind, type: message, entry: undefined });
    }
    let flat = true;
    for (const field of fields.values()) if (field.kind === Kind.Message || field.kind === Kind.Group || field.kind === Kind.MapOfMessages) flat = false;
    cached = {
      instance: { weight: 1, flat, fields },
      plain: { weight: 2, flat, fields },
      plainWithDefaults: { weight: 2 + filledIn, flat, fields },
      protobufEs: { weight: 1 + filledIn + (type.oneofsArray?.length ?? 0), flat, fields },
    };
    layouts.set(type, cached);
  }
  return cached[shape];
}

/** Fields of a map entry whose values are messages: field 2 is the value. */
function mapEntryLayout(valueType: ReflectedType): Layout {
  return { weight: 0, flat: false, fields: new Map([[2, { kind: Kind.Message, type: valueType, entry: undefined }]]) };
}

/** Thrown inside the walk when the payload is malformed: the decoder then reports it. */
const MALFORMED = Symbol('malformed');

/**
 * Walks `data` as a message of `type`, throwing when it is over a limit. A malformed payload
 * ends the walk quietly: protobufjs 8 then fails at the same place (it checks wire types as
 * strictly), and older copies still have their own depth limit.
 */
export function checkMessage(
  data: Uint8Array,
  type: ReflectedType,
  limits: Required<ProtobufLimits>,
  shape: DecodedShape,
): void {
  const layout = layoutOf(type, shape);
  // A message of a flat type (like most rpcx arguments) cannot pass either limit when every
  // byte would be a counted object: skip the walk.
  if (layout.flat && layout.weight + data.length <= limits.maxObjects) return;
  const walk = new Walk(data, limits, shape);
  walk.count(layout.weight);
  try {
    walk.message(layout, data.length, 0, 0);
  } catch (err) {
    if (err !== MALFORMED) throw err;
  }
}

class Walk {
  private pos = 0;
  private objects = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly limits: Required<ProtobufLimits>,
    private readonly shape: DecodedShape,
  ) {}

  count(n: number): void {
    this.objects += n;
    if (this.objects > this.limits.maxObjects) {
      throw new PayloadTooLargeError('protobuf', 'the number of objects the payload decodes into', 'maxObjects', this.limits.maxObjects);
    }
  }

  /** Reads fields up to `end`, or up to the end-group tag of field `group` when it is not 0. */
  message(layout: Layout, end: number, depth: number, group: number): void {
    const { data } = this;
    const fields = layout.fields;
    const plainFields = fields.size === 0;
    while (this.pos < end) {
      const first = data[this.pos];
      let tag: number;
      if (first < 0x80) {
        tag = first;
        this.pos++;
      } else {
        tag = this.varint(end);
      }
      const wireType = tag & 7;
      const fieldNumber = (tag - wireType) / 8;
      const field = plainFields ? undefined : fields.get(fieldNumber);
      if (wireType === 2) {
        const length = this.varint(end);
        if (length > end - this.pos) throw MALFORMED;
        const bodyEnd = this.pos + length;
        if (field !== undefined) this.lengthDelimited(field, bodyEnd, depth);
        this.pos = bodyEnd;
      } else if (wireType === 0) {
        if (field !== undefined && field.kind === Kind.Long) this.count(1);
        this.varint(end);
      } else if (wireType === 1) {
        this.skip(8, end);
      } else if (wireType === 5) {
        this.skip(4, end);
      } else if (wireType === 3) {
        // A group: a known one (delimited message field) or an unknown one being skipped.
        if (depth + 1 > this.limits.maxDepth) throw new PayloadTooDeepError('protobuf', this.limits.maxDepth);
        const known = field !== undefined && field.kind === Kind.Group;
        const child = known ? layoutOf(field.type!, this.shape) : EMPTY_LAYOUT;
        this.count(child.weight);
        this.message(child, end, depth + 1, fieldNumber);
      } else if (wireType === 4 && fieldNumber === group && group !== 0) {
        return;
      } else {
        throw MALFORMED;
      }
    }
    if (group !== 0) throw MALFORMED;
  }

  /** A length-delimited field the layout knows, whose body is `pos` to `bodyEnd`. */
  private lengthDelimited(field: FieldLayout, bodyEnd: number, depth: number): void {
    switch (field.kind) {
      case Kind.Message:
      case Kind.MapOfMessages: {
        const child = field.kind === Kind.Message ? layoutOf(field.type!, this.shape) : field.entry!;
        // A map entry is no level of its own: its value is decoded one level down.
        const childDepth = field.kind === Kind.Message ? depth + 1 : depth;
        if (childDepth > this.limits.maxDepth) throw new PayloadTooDeepError('protobuf', this.limits.maxDepth);
        this.count(child.weight);
        this.message(child, bodyEnd, childDepth, 0);
        return;
      }
      case Kind.Bytes:
        this.count(1);
        return;
      case Kind.Long: {
        // Packed: one 64-bit value per byte without its continuation bit.
        let values = 0;
        for (let i = this.pos; i < bodyEnd; i++) if (this.data[i] < 0x80) values++;
        this.count(values);
      }
    }
  }

  private skip(n: number, end: number): void {
    if (n > end - this.pos) throw MALFORMED;
    this.pos += n;
  }

  /** A varint as a number (exact up to 2^53, enough for tags and lengths). */
  private varint(end: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw MALFORMED;
      const b = this.data[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw MALFORMED;
  }
}

const EMPTY_LAYOUT: Layout = { weight: 0, flat: true, fields: new Map() };
