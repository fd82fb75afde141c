import { newMetadata, type Metadata, type RpcMessage } from '@rpcx/core';

const EMPTY = new Uint8Array(0);

/**
 * One rpcx frame's fields. Plain public fields: the hot path reads and writes them directly.
 * The byte layout lives in `encode.ts` and `decode.ts`.
 */
export class Message implements RpcMessage {
  version = 0;
  isResponse = false;
  heartbeat = false;
  oneway = false;
  compressType = 0;
  status = 0;
  serializeType = 0;
  seq: number | bigint = 0;
  servicePath = '';
  serviceMethod = '';
  payload: Uint8Array = EMPTY;
  /**
   * Made on first use: most frames carry no metadata, and an empty prototype-less map is a
   * dictionary object that costs more to make than the rest of the message.
   */
  #metadata: Metadata | undefined;

  constructor(init?: Partial<RpcMessage>) {
    this.#metadata = init?.metadata;
    if (init) {
      if (init.version !== undefined) this.version = init.version;
      if (init.isResponse !== undefined) this.isResponse = init.isResponse;
      if (init.heartbeat !== undefined) this.heartbeat = init.heartbeat;
      if (init.oneway !== undefined) this.oneway = init.oneway;
      if (init.compressType !== undefined) this.compressType = init.compressType;
      if (init.status !== undefined) this.status = init.status;
      if (init.serializeType !== undefined) this.serializeType = init.serializeType;
      if (init.seq !== undefined) this.seq = init.seq;
      if (init.servicePath !== undefined) this.servicePath = init.servicePath;
      if (init.serviceMethod !== undefined) this.serviceMethod = init.serviceMethod;
      if (init.payload !== undefined) this.payload = init.payload;
    }
  }

  /** The frame's metadata (an empty map is made the first time it is read). */
  get metadata(): Metadata {
    return (this.#metadata ??= newMetadata());
  }

  set metadata(metadata: Metadata) {
    this.#metadata = metadata;
  }

  /** The metadata map if the message has one yet, without making one: for readers that only look. */
  get metadataIfAny(): Metadata | undefined {
    return this.#metadata;
  }

  /**
   * The response skeleton Go's server builds with `Clone()`: same version, seq, serialize
   * type, heartbeat and oneway bits, service path and method; no compression, no metadata,
   * no payload; type = response. `metadata` becomes the response's (default: a new empty map).
   */
  toResponse(metadata?: Metadata): Message {
    const res = metadata ? new Message({ metadata }) : new Message();
    res.version = this.version;
    res.isResponse = true;
    res.heartbeat = this.heartbeat;
    res.oneway = this.oneway;
    res.serializeType = this.serializeType;
    res.seq = this.seq;
    res.servicePath = this.servicePath;
    res.serviceMethod = this.serviceMethod;
    return res;
  }
}

/** A frame whose flags say it is a server push (Go client's test in `input`). */
export function isServerPush(m: RpcMessage): boolean {
  return !m.isResponse && !m.heartbeat && m.oneway;
}
