/** The first byte of every rpcx frame. */
export const MAGIC_NUMBER = 0x08;

/** Payload encodings, carried in the high nibble of header byte 3. Users may register 5..15. */
export const SerializeType = {
  /** Raw bytes, passed through untouched (Go `SerializeNone`). */
  None: 0,
  JSON: 1,
  ProtoBuffer: 2,
  MsgPack: 3,
  Thrift: 4,
} as const;
export type SerializeType = number;

/** Payload compression, three bits of header byte 2. Go registers only these two. */
export const CompressType = {
  None: 0,
  Gzip: 1,
} as const;
export type CompressType = number;

export const MessageStatus = {
  Normal: 0,
  Error: 1,
} as const;
export type MessageStatus = number;

/** Metadata keys with a meaning on the wire (Go `share` and `protocol` packages). */
export const MetaKey = {
  /** Server → client: the error text of a failed call. */
  ServiceError: '__rpcx_error__',
  /** Client → server: the auth token handed to the server's auth function. */
  Auth: '__AUTH',
  /** Client → server: what is left of the caller's deadline, in milliseconds. */
  ServerTimeout: '__ServerTimeout',
  /** Client-local: the address of the server that answered, added to response metadata. */
  ServerAddress: '__ServerAddress',
} as const;

/** Path of the HTTP CONNECT and WebSocket endpoints (Go `share.DefaultRPCPath`). */
export const DEFAULT_RPC_PATH = '/_rpcx_';

/** Go rpcx compresses a payload only when it is larger than this many bytes. */
export const COMPRESS_THRESHOLD = 1024;
