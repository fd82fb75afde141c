import { RegistryError } from '@rpcx/core';
import { goJsonString } from '@rpcx/registry-kit';

/**
 * libkv's `store.Normalize`: `"/"` + the key as given. A basePath that starts with `/` thus
 * becomes `//…` in Redis, exactly as Go stores it.
 */
export function normalize(key: string): string {
  return `/${key}`;
}

/** A SCAN `MATCH` pattern for keys starting with `prefix` (glob characters escaped). */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/**
 * libkv's `KVPair` as its Redis store writes it, `json.Marshal` of
 * `{Key string; Value []byte; LastIndex uint64}`: the key as given (not normalized), the value
 * base64-encoded, and `LastIndex` = the nanoseconds of the current second (libkv's
 * `sequenceNum`, `time.Now().Nanosecond()`).
 */
export function encodeEnvelope(key: string, value: string | Uint8Array): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const lastIndex = (Date.now() % 1000) * 1_000_000 + Math.floor(Math.random() * 1_000_000);
  return `{"Key":${goJsonString(key)},"Value":"${bytes.toString('base64')}","LastIndex":${lastIndex}}`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Read an envelope as Go's `json.Unmarshal` into libkv's `KVPair` does: field names match
 * case-insensitively, `Value` is standard base64 (or null). Throws with the reason when Go
 * would fail to decode it.
 */
export function decodeEnvelope(text: string): { key: string; value: Buffer } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RegistryError(`value is not libkv JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RegistryError('value is not a libkv KVPair object');
  let key = '';
  let value = Buffer.alloc(0);
  for (const [name, field] of Object.entries(parsed as Record<string, unknown>)) {
    const lower = name.toLowerCase();
    if (field === null) continue;
    if (lower === 'key') {
      if (typeof field !== 'string') throw new RegistryError('libkv KVPair Key is not a string');
      key = field;
    } else if (lower === 'value') {
      if (typeof field !== 'string' || !BASE64.test(field)) throw new RegistryError('libkv KVPair Value is not base64');
      value = Buffer.from(field, 'base64');
    }
  }
  return { key, value };
}
