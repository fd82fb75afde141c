import type { SelectRequest } from '@rpcx/core';

/**
 * A deterministic text form of any value: equal values give equal text in every process,
 * whatever the order their object keys were created in. JSON-like, but object keys are
 * sorted, `bigint`, `Map`, `Set` and byte arrays are kept, and cycles do not throw.
 *
 * It exists because a consistent-hash key must not depend on property insertion order, and
 * Go's `fmt.Sprintf("%v", args)` (what Go hashes) has no JavaScript equivalent anyway.
 */
export function stableStringify(value: unknown): string {
  return write(value, []);
}

function write(value: unknown, stack: object[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return String(value); // as JSON for finite numbers; NaN and Infinity kept apart from null
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return 'null';
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (stack.includes(obj)) return '"[Circular]"';
  stack.push(obj);
  let out: string;
  const proto = Object.getPrototypeOf(obj) as unknown;
  if (proto === Object.prototype || proto === null) {
    out = writePlain(obj as Record<string, unknown>, stack);
  } else if (Array.isArray(obj)) {
    out = '[';
    for (let i = 0; i < obj.length; i++) out += (i ? ',' : '') + write(obj[i], stack);
    out += ']';
  } else if (ArrayBuffer.isView(obj)) {
    out = `"0x${hex(new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength))}"`;
  } else if (obj instanceof Map) {
    const entries = [...obj.entries()].map(([k, v]) => `${write(k, stack)}:${write(v, stack)}`);
    out = 'Map{' + entries.sort().join(',') + '}';
  } else if (obj instanceof Set) {
    out = 'Set[' + [...obj].map((v) => write(v, stack)).sort().join(',') + ']';
  } else if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    // Date and friends: their JSON form is already canonical.
    out = write((obj as { toJSON(): unknown }).toJSON(), stack);
  } else {
    // Class instances: their own enumerable properties, as JSON would.
    out = writePlain(obj as Record<string, unknown>, stack);
  }
  stack.pop();
  return out;
}

function writePlain(obj: Record<string, unknown>, stack: object[]): string {
  // Default sort compares UTF-16 code units, the same in every process.
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    // Like JSON: properties that JSON would drop do not change the key.
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + write(v, stack);
    first = false;
  }
  return out + '}';
}

/**
 * The default consistent-hash key: `/servicePath/serviceMethod/<stable text of args>`, the
 * shape of Go's `"/" + servicePath + "/" + serviceMethod + "/" + fmt.Sprintf("%v", args)`.
 */
export function defaultHashKey(request: SelectRequest): string {
  return `/${request.servicePath}/${request.serviceMethod}/${stableStringify(request.args)}`;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return out;
}
