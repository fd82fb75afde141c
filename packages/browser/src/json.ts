import { CodecError, RpcxError, SerializeType, type Codec } from '@rpcx/core';
import { checkLength, checkNesting, resolveLimits, type JsonLimits } from '@rpcx/codec-json/limits';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A plain JSON codec (serialize type 1) on `JSON.stringify` / `JSON.parse` and
 * TextEncoder / TextDecoder, for pages. Unlike `@rpcx/codec-json` (which still needs Node's
 * Buffer), it does no Go-specific mapping: no bigint, and byte arrays are not base64.
 *
 * It decodes with `@rpcx/codec-json`'s limits and defaults (`maxDepth` 1000, `maxObjects`
 * 1048576, `maxLength` 64 MiB), so a hostile server cannot freeze the page with a reply nested
 * millions deep: such a reply fails with a `PayloadTooDeepError` / `PayloadTooLargeError`,
 * invalid JSON with a `CodecError`.
 */
export function jsonCodec(options: JsonLimits = {}): Codec {
  const limits = resolveLimits(options);
  return {
    serializeType: SerializeType.JSON,
    name: 'json',
    encode(value: unknown): Uint8Array {
      return encoder.encode(JSON.stringify(value ?? null));
    },
    decode(data: Uint8Array): unknown {
      if (data.length === 0) return undefined;
      checkLength(data.length, limits);
      const text = decoder.decode(data);
      checkNesting(text, limits);
      try {
        return JSON.parse(text);
      } catch (err) {
        if (err instanceof RpcxError) throw err;
        throw new CodecError(`json: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
