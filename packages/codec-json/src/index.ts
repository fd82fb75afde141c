/**
 * @packageDocumentation
 * JSON codec (serialize type 1) for `@rpcx`, written to read and write what Go rpcx's `JSONCodec`
 * (Go `encoding/json`) reads and writes: `Uint8Array` travels as base64 like Go `[]byte`,
 * `<`, `>` and `&` are escaped like Go's HTML-safe output, and integers beyond 2^53 survive as
 * `bigint` in both directions.
 *
 * Keys are written exactly as the JS object has them. Go matches object keys to struct fields
 * case-insensitively (and honours `json:"name"` tags), so `{ a: 1 }` fills a Go field `A`, but
 * keys Go sends come back in Go's spelling (`A`): this codec never rewrites keys.
 *
 * @module @rpcx/codec-json
 */
import { CodecError, RpcxError, type Codec } from '@rpcx/core';
import { decodeUtf8, encodeUtf8 } from './bytes.js';
import { stringify } from './stringify.js';
import { parse, type LargeIntegers } from './parse.js';
import { checkLength, checkNesting, resolveLimits, type JsonLimits } from './limits.js';

export type { LargeIntegers } from './parse.js';
export { DEFAULT_JSON_LIMITS, type JsonLimits } from './limits.js';
export { formatJson } from './format.js';

/** Options of {@link jsonCodec}; the decoding limits are described in {@link JsonLimits}. */
export interface JsonCodecOptions extends JsonLimits {
  /**
   * Escape `<`, `>` and `&` inside strings as `\u003c`, `\u003e`, `\u0026`, as Go's
   * `json.Marshal` does. U+2028 and U+2029 are always escaped, as in Go.
   * @defaultValue `true`
   */
  escapeHTML?: boolean;
  /**
   * What integer literals beyond ±(2^53 − 1) decode to: `'bigint'` (exact), `'string'` (exact
   * decimal text) or `'number'` (rounded, like plain `JSON.parse`). Smaller integers and all
   * numbers with a fraction or exponent are always `number`.
   * @defaultValue `'bigint'`
   */
  largeIntegers?: LargeIntegers;
}

const HTML_AND_LINE_SEPARATORS = /[<>&\u2028\u2029]/g;
const LINE_SEPARATORS = /[\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};
const escapeChar = (c: string): string => ESCAPES[c];

/** Any run of 16+ digits may be an integer beyond 2^53 (9007199254740992 has 16 digits). */
const LONG_DIGIT_RUN = /\d{16}/;

/**
 * Creates the JSON codec, serialize type 1.
 *
 * Encoding: plain objects, arrays, strings, booleans, `null` and finite numbers as
 * `JSON.stringify` writes them, plus `bigint` → exact JSON number, `Uint8Array`/`Buffer` →
 * base64 string, `Map` → object, `Set` → array, other typed arrays → arrays, `undefined` at the
 * top → `null`. `NaN` and `±Infinity` throw, with Go's text (`json: unsupported value: NaN`).
 * No trailing newline.
 *
 * Decoding: `JSON.parse`, except that integers beyond ±(2^53 − 1) keep their exact value
 * (see {@link JsonCodecOptions.largeIntegers}). base64 strings stay strings: without a schema
 * the codec cannot know a field was Go `[]byte`. A payload over a limit fails with a
 * `PayloadTooDeepError` or `PayloadTooLargeError`, invalid JSON with a `CodecError`.
 */
export function jsonCodec(options: JsonCodecOptions = {}): Codec {
  const escapeHTML = options.escapeHTML ?? true;
  const largeIntegers = options.largeIntegers ?? 'bigint';
  const escapes = escapeHTML ? HTML_AND_LINE_SEPARATORS : LINE_SEPARATORS;
  const limits = resolveLimits(options);

  return {
    serializeType: 1,
    name: 'json',
    encode(value: unknown): Uint8Array {
      let text = stringify(value);
      // Only strings can hold these characters, so escaping the whole text is safe.
      escapes.lastIndex = 0;
      if (escapes.test(text)) text = text.replace(escapes, escapeChar);
      return encodeUtf8(text);
    },
    decode(data: Uint8Array): unknown {
      checkLength(data.length, limits);
      const text = decodeUtf8(data);
      checkNesting(text, limits);
      try {
        if (largeIntegers === 'number' || !LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
        return parse(text, largeIntegers);
      } catch (err) {
        if (err instanceof RpcxError) throw err;
        throw new CodecError(`json: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
