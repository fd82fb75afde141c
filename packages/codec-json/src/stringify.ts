/**
 * Go-flavoured JSON text for a JS value. Values made only of plain objects, arrays, strings,
 * booleans, null and finite numbers go to the native `JSON.stringify` (about twice as fast as
 * any JS serializer); anything else takes the slower path below, which knows `bigint`,
 * `Uint8Array`, `Map`, `Set` and refuses NaN/Infinity like Go.
 */
import { CodecError } from '@rpcx/core';
import { base64 } from './bytes.js';

/** Deeper than this we stop checking and let the full serializer decide. */
const CHECK_DEPTH = 64;
/** Go's encoder has no depth limit, but a cycle must fail rather than overflow the stack. */
const MAX_DEPTH = 1000;

export function stringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (isNativeSafe(value, 0)) return JSON.stringify(value);
  return write(value, 0) ?? 'null';
}

function isNativeSafe(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value);
    case 'bigint':
      return false;
    case 'object': {
      if (value === null) return true;
      if (depth > CHECK_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isNativeSafe(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      // A plain object's own `toJSON` would be honoured by both paths alike.
      for (const key in value) {
        if (!isNativeSafe((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      // string, boolean, undefined, function, symbol: same result on both paths.
      return true;
  }
}

/** Returns undefined for values JSON skips in objects (undefined, functions, symbols). */
function write(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (Number.isFinite(value)) return String(value);
      throw new CodecError(`json: unsupported value: ${goFloatText(value)}`);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) {
        throw new CodecError(`json: unsupported value: encountered a cycle or nesting deeper than ${MAX_DEPTH}`);
      }
      return writeObject(value, depth + 1);
    default:
      return undefined;
  }
}

function writeObject(value: object, depth: number): string | undefined {
  if (Array.isArray(value)) return writeList(value, depth);
  if (ArrayBuffer.isView(value)) {
    // Go `[]byte` (= []uint8) is base64; other Go slices are arrays.
    if (value instanceof Uint8Array) {
      return `"${base64(value)}"`;
    }
    if (value instanceof DataView) return '{}';
    return writeList(Array.from(value as unknown as ArrayLike<unknown>), depth);
  }
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [key, item] of value) {
      const text = write(item, depth);
      if (text !== undefined) parts.push(`${JSON.stringify(String(key))}:${text}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (value instanceof Set) return writeList(Array.from(value), depth);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), depth);

  let out = '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const text = write((value as Record<string, unknown>)[key], depth);
    if (text === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(key)}:${text}`;
  }
  return `${out}}`;
}

function writeList(items: ArrayLike<unknown>, depth: number): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += write(items[i], depth) ?? 'null';
  }
  return `${out}]`;
}

/** Go's `strconv.FormatFloat(f, 'g', -1, 64)` spelling, used in its error text. */
function goFloatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  return n > 0 ? '+Inf' : '-Inf';
}
