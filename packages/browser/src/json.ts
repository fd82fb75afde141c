import { SerializeType, type Codec } from '@rpcx/core';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A plain JSON codec (serialize type 1) on `JSON.stringify` / `JSON.parse` and
 * TextEncoder / TextDecoder, for pages. Unlike `@rpcx/codec-json` (which still needs Node's
 * Buffer), it does no Go-specific mapping: no bigint, and byte arrays are not base64.
 */
export function jsonCodec(): Codec {
  return {
    serializeType: SerializeType.JSON,
    name: 'json',
    encode(value: unknown): Uint8Array {
      return encoder.encode(JSON.stringify(value ?? null));
    },
    decode(data: Uint8Array): unknown {
      return data.length === 0 ? undefined : JSON.parse(decoder.decode(data));
    },
  };
}
