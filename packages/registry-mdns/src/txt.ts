import { RegistryError, queryEscape, queryUnescape } from '@rpcx/core';
import { goJsonString } from '@rpcx/registry-kit';

/** One service of a server, as Go's mDNS plugin lists it (`serviceMeta`). */
export interface ServiceMeta {
  service: string;
  meta: string;
  serviceAddress: string;
}

/** Go's JSON field names, in Go's order; all `omitempty`. */
const FIELDS: [keyof ServiceMeta, string][] = [
  ['service', 'service'],
  ['meta', 'meta'],
  ['serviceAddress', 'service_address'],
];

// Go's json.Marshal of a string lives in registry-kit (the Redis registry writes it too).
export { goJsonString };

/** Go `json.Marshal([]*serviceMeta)`: fields in order, empty ones left out, no spaces. */
export function servicesJson(services: readonly ServiceMeta[]): string {
  const items = services.map((s) => {
    const fields = FIELDS.filter(([field]) => s[field] !== '').map(([field, name]) => `"${name}":${goJsonString(s[field])}`);
    return `{${fields.join(',')}}`;
  });
  return `[${items.join(',')}]`;
}

/** The TXT string Go's mDNS plugin announces: `url.QueryEscape(json.Marshal(services))`. */
export function encodeServices(services: readonly ServiceMeta[]): string {
  return queryEscape(servicesJson(services));
}

/** A DNS TXT character-string holds at most 255 bytes. */
const MAX_TXT_STRING = 255;

/**
 * The TXT record's strings. The escaped text is ASCII; up to 255 bytes it is one string, as
 * Go sends it. Longer text is cut into 255-byte strings, which `decodeTxt` joins again (Go
 * cannot send it at all: its DNS library refuses a TXT string over 255 bytes).
 */
export function txtStrings(encoded: string): Buffer[] {
  const bytes = Buffer.from(encoded, 'latin1');
  if (bytes.length <= MAX_TXT_STRING) return [bytes];
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += MAX_TXT_STRING) parts.push(bytes.subarray(at, at + MAX_TXT_STRING));
  return parts;
}

/** Go's `strings.EqualFold` for the ASCII field names here. */
const fold = (s: string) => s.toLowerCase();

/**
 * Decode a TXT record as Go's discovery does (`url.QueryUnescape(Text[0])`, then
 * `json.Unmarshal` into `[]*serviceMeta`), with every string of the record joined first.
 * Field names match case-insensitively, as in Go. Throws, with the reason, where Go's
 * `json.Unmarshal` fails; `null` entries are dropped.
 */
export function decodeTxt(strings: readonly Uint8Array[]): ServiceMeta[] {
  const escaped = Buffer.concat(strings.map((s) => Buffer.from(s))).toString('utf8');
  let text: string;
  try {
    text = queryUnescape(escaped);
  } catch (error) {
    throw new RegistryError(`TXT is not URL-escaped: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RegistryError(`TXT is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new RegistryError('TXT JSON is not an array');
  const services: ServiceMeta[] = [];
  for (const item of parsed) {
    if (item === null) continue;
    if (typeof item !== 'object' || Array.isArray(item)) throw new RegistryError('TXT JSON array holds a non-object');
    const meta: ServiceMeta = { service: '', meta: '', serviceAddress: '' };
    for (const [name, value] of Object.entries(item as Record<string, unknown>)) {
      const field = FIELDS.find(([, goName]) => fold(goName) === fold(name));
      if (!field || value === null) continue;
      if (typeof value !== 'string') throw new RegistryError(`TXT JSON field ${name} is not a string`);
      meta[field[0]] = value;
    }
    services.push(meta);
  }
  return services;
}
