import type { Metadata } from './metadata.js';

/**
 * The fields of one rpcx frame, as plugins and raw senders see them. `@rpcx/protocol`'s
 * `Message` class implements it and knows the byte layout.
 */
export interface RpcMessage {
  /** Header byte 1. rpcx always writes 0; a response copies the request's. */
  version: number;
  /** Bit 7 of byte 2: false = request, true = response. */
  isResponse: boolean;
  heartbeat: boolean;
  oneway: boolean;
  /** See `CompressType`. */
  compressType: number;
  /** See `MessageStatus`. */
  status: number;
  /** See `SerializeType`. */
  serializeType: number;
  /** uint64 on the wire; a bigint only when it does not fit in 2^53. */
  seq: number | bigint;
  servicePath: string;
  serviceMethod: string;
  metadata: Metadata;
  /** The payload, already decompressed on receive and not yet compressed on send. */
  payload: Uint8Array;
}
