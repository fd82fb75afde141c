/**
 * Decoding limits of the JSON codec, checked on the payload before it is parsed. No Node
 * APIs here: `@rpcx/browser`'s JSON codec imports this module (`@rpcx/codec-json/limits`).
 * V8's `JSON.parse` does not recurse, but it has no depth limit either: 10 million nested
 * arrays take 10 s and hold every level in memory, and the values it returns break recursive
 * code afterwards (`JSON.stringify` of 100,000 nested objects overflows the stack, and so does
 * the exact parser used for large integers, which recurses).
 *
 * @module @rpcx/codec-json/limits
 */
import { PayloadTooDeepError, PayloadTooLargeError, positiveIntegerOptions } from '@rpcx/core';

/**
 * Decoding limits; a payload over one fails with a `PayloadTooDeepError` or
 * `PayloadTooLargeError` (from @rpcx/core) before it is parsed. Each must be a positive integer.
 */
export interface JsonLimits {
  /**
   * Deepest nesting of arrays and objects: a top-level object is depth 1. Go's
   * `encoding/json` refuses more than 10000 levels; 1000 is Jackson's limit and deep enough
   * for any real data.
   * @defaultValue `1000`
   */
  maxDepth?: number;
  /**
   * Most arrays and objects in one payload. This bounds the memory one payload can take: `[]`
   * and `{}` are two or three bytes on the wire and about 60 bytes of heap each.
   * @defaultValue `1048576` (1 Mi)
   */
  maxObjects?: number;
  /**
   * Longest payload, in bytes. The default is rpcx's default frame limit, so a payload that
   * fits in a default frame never reaches it.
   * @defaultValue `67108864` (64 MiB)
   */
  maxLength?: number;
}

export const DEFAULT_JSON_LIMITS: Readonly<Required<JsonLimits>> = Object.freeze({
  maxDepth: 1000,
  maxObjects: 1024 * 1024,
  maxLength: 64 * 1024 * 1024,
});

export function resolveLimits(options: JsonLimits): Required<JsonLimits> {
  return positiveIntegerOptions('json', DEFAULT_JSON_LIMITS, options);
}

/** Throws when a payload of `length` bytes is over `maxLength`; checked before it is read. */
export function checkLength(length: number, limits: Required<JsonLimits>): void {
  if (length > limits.maxLength) throw new PayloadTooLargeError('json', `a payload of ${length} bytes`, 'maxLength', limits.maxLength);
}

/**
 * Throws when `text` nests deeper than `maxDepth` or holds more than `maxObjects` arrays and
 * objects. Malformed JSON is left to the parser: unbalanced brackets only make the count here
 * wrong in a way the parser then refuses anyway.
 */
export function checkNesting(text: string, limits: Required<JsonLimits>): void {
  const { maxDepth, maxObjects } = limits;
  const bound = Math.min(maxDepth, maxObjects);
  // Neither limit can be passed with `bound` brackets or fewer, inside strings or not. Counting
  // them with the native indexOf is several times cheaper than the exact walk below, so the
  // walk only runs for payloads with many arrays and objects.
  if (text.length <= bound || countUpTo(text, '{', countUpTo(text, '[', 0, bound), bound) <= bound) return;
  let depth = 0;
  let objects = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string, and the character after each backslash.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x22) break;
        if (d === 0x5c) i++;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw new PayloadTooDeepError('json', maxDepth);
      if (++objects > maxObjects) throw new PayloadTooLargeError('json', 'the number of arrays and objects', 'maxObjects', maxObjects);
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
}

/** `count` plus the occurrences of `char` in `text`, counting no further than `bound` + 1. */
function countUpTo(text: string, char: string, count: number, bound: number): number {
  for (let i = text.indexOf(char); i !== -1 && count <= bound; i = text.indexOf(char, i + 1)) count++;
  return count;
}
