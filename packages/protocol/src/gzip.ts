// gzip for Node (package import `#gzip`); src/gzip-browser.ts takes its place in browser builds.
import { gunzipSync, gzipSync } from 'node:zlib';

export function gzip(data: Uint8Array): Uint8Array {
  return gzipSync(data);
}

/** Inflate, stopping with `ERR_BUFFER_TOO_LARGE` past `limit` bytes (0 = no limit). */
export function gunzip(data: Uint8Array, limit: number): Uint8Array {
  return limit > 0 ? gunzipSync(data, { maxOutputLength: limit }) : gunzipSync(data);
}
