/**
 * A reply as JSON, the way Go's encoding/json would print the same Go value: 64-bit integers
 * exact (bigint digits), bytes as base64, times as RFC 3339, maps as objects.
 */
export function toJson(value: unknown, indent = '  ', depth = 0): string {
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
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const pad = indent ? '\n' + indent.repeat(depth + 1) : '';
  const end = indent ? '\n' + indent.repeat(depth) : '';
  const sep = indent ? ': ' : ':';
  if (Array.isArray(value) || value instanceof Set) {
    const items = [...value].map((v) => toJson(v, indent, depth + 1));
    return items.length === 0 ? '[]' : `[${pad}${items.join(',' + pad)}${end}]`;
  }
  const entries = value instanceof Map ? [...value.entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(value as object);
  const fields = entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}${sep}${toJson(v, indent, depth + 1)}`);
  return fields.length === 0 ? '{}' : `{${pad}${fields.join(',' + pad)}${end}}`;
}

/** Rows as columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

/** Milliseconds for a latency column. */
export function ms(value: number): string {
  if (value >= 100) return `${value.toFixed(0)}ms`;
  if (value >= 10) return `${value.toFixed(1)}ms`;
  return `${value.toFixed(2)}ms`;
}
