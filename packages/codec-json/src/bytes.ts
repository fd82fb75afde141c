/**
 * UTF-8 and base64 on Node's `Buffer` where there is one (its pooled `from` is the fastest
 * way to encode a small string) and on `TextEncoder` / `TextDecoder` and plain code elsewhere,
 * so the codec runs unchanged in browsers. Chosen once, at load; the bytes are the same.
 */
interface NodeBufferClass {
  from(text: string, encoding: 'utf8'): Uint8Array;
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'base64'): string };
}

const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;
const encoder = new TextEncoder();
// As fast as Buffer's toString on Node 20, bad UTF-8 becomes U+FFFD as there, and a BOM is
// kept, as Go keeps it (and then refuses the payload).
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export const encodeUtf8: (text: string) => Uint8Array = NodeBuffer ? (text) => NodeBuffer.from(text, 'utf8') : (text) => encoder.encode(text);

export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding, as Go's encoding/json writes a []byte. */
export const base64: (bytes: Uint8Array) => string = NodeBuffer
  ? (bytes) => NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  : portableBase64;

export function portableBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + BASE64[(n >> 6) & 63] + BASE64[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += `${BASE64[n >> 18]}${BASE64[(n >> 12) & 63]}==`;
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += `${BASE64[n >> 18]}${BASE64[(n >> 12) & 63]}${BASE64[(n >> 6) & 63]}=`;
  }
  return out;
}
