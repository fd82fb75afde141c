/**
 * Error texts of the Go standard library functions Go rpcx's gateways call on request headers
 * (strconv, net/url), so a bad header gets the same `X-RPCX-ErrorMessage` from a TypeScript
 * server as from a Go one. They return the text rather than throw it: every caller answers it.
 */
import { newMetadata, parseQueryWithError, type Metadata } from '@rpcx/core';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * Go `strconv.Quote` of a string given as its bytes: printable runes as they are, the C
 * escapes, `\xNN` for other ASCII controls and bytes that are not UTF-8, `\u00NN` for the
 * C1 controls. (Go asks `unicode.IsPrint`; runes beyond Latin-1 are taken as printable here.)
 */
export function goQuote(bytes: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      switch (b) {
        case 0x22:
          out += '\\"';
          break;
        case 0x5c:
          out += '\\\\';
          break;
        case 0x07:
          out += '\\a';
          break;
        case 0x08:
          out += '\\b';
          break;
        case 0x0c:
          out += '\\f';
          break;
        case 0x0a:
          out += '\\n';
          break;
        case 0x0d:
          out += '\\r';
          break;
        case 0x09:
          out += '\\t';
          break;
        case 0x0b:
          out += '\\v';
          break;
        default:
          out += b < 0x20 || b === 0x7f ? '\\x' + hex(b, 2) : String.fromCharCode(b);
      }
      continue;
    }
    const [cp, size] = decodeRune(bytes, i);
    if (cp < 0) {
      out += '\\x' + hex(b, 2);
      i++;
      continue;
    }
    i += size;
    if (cp < 0xa0 || cp === 0xad) out += '\\u' + hex(cp, 4);
    else out += String.fromCodePoint(cp);
  }
  return out + '"';
}

/** One UTF-8 rune at `i`: [code point, length], or [-1, 1] for an invalid byte (Go's RuneError). */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c = b[i];
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf && cont(1)) return [((c & 0x1f) << 6) | (b[i + 1] & 0x3f), 2];
  if (c >= 0xe0 && c <= 0xef && cont(1) && cont(2)) {
    const cp = ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
    if (cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff)) return [cp, 3];
  }
  if (c >= 0xf0 && c <= 0xf4 && cont(1) && cont(2) && cont(3)) {
    const cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
    if (cp >= 0x10000 && cp <= 0x10ffff) return [cp, 4];
  }
  return [-1, 1];
}

/** A Go `*strconv.NumError`'s text, e.g. `strconv.Atoi: parsing "x": invalid syntax`. */
function numError(fn: string, input: Uint8Array, reason: 'invalid syntax' | 'value out of range'): string {
  return `strconv.${fn}: parsing ${goQuote(input)}: ${reason}`;
}

const MAX_UINT64 = (1n << 64n) - 1n;

/** Digits to a bigint as Go's `ParseUint(s, 10, 64)` reads them; errors name `fn` and `input`. */
function parseDecimal(digits: Uint8Array, fn: string, input: Uint8Array): bigint | string {
  if (digits.length === 0) return numError(fn, input, 'invalid syntax');
  let n = 0n;
  for (const c of digits) {
    if (c < 0x30 || c > 0x39) return numError(fn, input, 'invalid syntax');
    n = n * 10n + BigInt(c - 0x30);
    // Go stops at the first overflow, before looking at the rest.
    if (n > MAX_UINT64) return numError(fn, input, 'value out of range');
  }
  return n;
}

/**
 * Go `strconv.ParseUint(s, 10, 64)`; `s` as bytes (header values are bytes). The number, or
 * Go's error text (`strconv.ParseUint: parsing "x": invalid syntax`).
 */
export function parseUint64(s: Uint8Array): bigint | string {
  return parseDecimal(s, 'ParseUint', s);
}

/** Go `strconv.Atoi` on a 64-bit platform: the number, or Go's error text. */
export function atoi(s: Uint8Array): bigint | string {
  if (s.length === 0) return numError('Atoi', s, 'invalid syntax');
  const neg = s[0] === 0x2d;
  const digits = s[0] === 0x2b || neg ? s.subarray(1) : s;
  if (digits.length === 0) return numError('Atoi', s, 'invalid syntax');
  // A uint64 overflow is a range error for Atoi too, as in Go's ParseInt.
  const n = parseDecimal(digits, 'Atoi', s);
  if (typeof n === 'string') return n;
  if (!neg && n >= 1n << 63n) return numError('Atoi', s, 'value out of range');
  if (neg && n > 1n << 63n) return numError('Atoi', s, 'value out of range');
  return neg ? -n : n;
}

/**
 * `X-RPCX-Meta` as Go rpcx reads it: `url.ParseQuery` of the header (already decoded from its
 * bytes as UTF-8), the first value of each key, and Go's error. Pairs that parse are kept
 * either way (the JSON-RPC path uses them and ignores the error; the gateway fails).
 */
export function parseMetaQuery(query: string): { metadata: Metadata; error?: string } {
  const { values, error } = parseQueryWithError(query);
  const metadata = newMetadata();
  for (const [key, list] of values) metadata[key] = list[0];
  return error === undefined ? { metadata } : { metadata, error };
}

/** Go `http.CanonicalHeaderKey`: `x-rpcx-meta` → `X-Rpcx-Meta`; names with other bytes stay as they are. */
export function canonicalHeaderKey(name: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return name;
  let upper = true;
  let out = '';
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}
