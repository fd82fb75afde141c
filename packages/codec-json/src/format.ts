import { base64 } from './bytes.js';

/**
 * A decoded value as indented JSON for people to read (`rpcx call`, `rpcx ui`), the way Go's
 * encoding/json would print the same Go value: 64-bit integers exact (bigint digits), bytes as
 * base64, times as RFC 3339, maps as objects. Unlike the codec it never throws: NaN and
 * Infinity print as null. `indent` '' gives one line.
 */
export function formatJson(value: unknown, indent = '  ', depth = 0): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return String(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'string':
      return JSON.stringify(value);
    case 'function':
    case 'symbol':
      return 'null';
  }
  if (value instanceof Uint8Array) return JSON.stringify(base64(value));
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const pad = indent ? '\n' + indent.repeat(depth + 1) : '';
  const end = indent ? '\n' + indent.repeat(depth) : '';
  const sep = indent ? ': ' : ':';
  if (Array.isArray(value) || value instanceof Set) {
    const items = [...value].map((v) => formatJson(v, indent, depth + 1));
    return items.length === 0 ? '[]' : `[${pad}${items.join(',' + pad)}${end}]`;
  }
  const entries = value instanceof Map ? [...value.entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(value as object);
  const fields = entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}${sep}${formatJson(v, indent, depth + 1)}`);
  return fields.length === 0 ? '{}' : `{${pad}${fields.join(',' + pad)}${end}}`;
}
