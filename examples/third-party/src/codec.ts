// A codec: `Codec` from @rpcx/core, registered under a serialize type number that travels in
// every frame. 0..4 are rpcx's own (raw, JSON, protobuf, msgpack, thrift); pick one of 5..15
// and use the same number on both sides. This one is JSON with object keys sorted, so equal
// values always give equal bytes (for signatures or caches keyed by payload).
import { CodecError, type Codec } from '@rpcx/core';

export const CANONICAL_JSON = 6;

export function canonicalJsonCodec(): Codec {
  const utf8 = new TextEncoder();
  const text = new TextDecoder('utf-8', { fatal: true });
  return {
    serializeType: CANONICAL_JSON,
    name: 'canonical-json',
    encode(value) {
      return utf8.encode(JSON.stringify(sortKeys(value)) ?? 'null');
    },
    decode(data) {
      // Bad input fails the call with a CodecError; the connection and other calls go on.
      try {
        return JSON.parse(text.decode(data));
      } catch (err) {
        throw new CodecError(`canonical-json: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}
