import { CodecError } from './errors.js';

/**
 * A payload codec, registered under the serialize type number carried in every frame.
 *
 * Schemaless codecs (JSON, MessagePack) ignore `schema`. Schema codecs (Protocol Buffers,
 * Thrift) need to know the message type, which the caller passes per call or per method
 * registration — the TypeScript counterpart of the Go reply pointer's static type.
 */
export interface Codec {
  /** The serialize type number (0..15). 0..4 are rpcx's own; users pick 5..15. */
  readonly serializeType: number;
  /** A short name for logs and CLIs, e.g. `msgpack`. */
  readonly name: string;
  encode(value: unknown, schema?: unknown): Uint8Array;
  decode(data: Uint8Array, schema?: unknown): unknown;
}

/** Which schema to use for a method's arguments and reply (protobuf / thrift codecs). */
export interface MethodSchema {
  args?: unknown;
  reply?: unknown;
}

const utf8 = new TextEncoder();

/**
 * The raw-bytes codec (Go `ByteCodec`, serialize type 0). Lives here rather than in its own
 * package because it has no dependency and every server and client installs it.
 */
export const rawCodec: Codec = {
  serializeType: 0,
  name: 'raw',
  encode(value: unknown): Uint8Array {
    if (value instanceof Uint8Array) return value;
    if (typeof value === 'string') return utf8.encode(value);
    if (value == null) return new Uint8Array(0);
    // Go's ByteCodec text, with %T of the value's JS type.
    throw new CodecError(`${describeType(value)} is not a []byte`);
  },
  decode(data: Uint8Array): Uint8Array {
    return data;
  },
};

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
