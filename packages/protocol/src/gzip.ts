// gzip for Node (package import `#gzip`); src/gzip-browser.ts takes its place in browser builds.
import { gunzip as gunzipCallback, gunzipSync, gzipSync } from 'node:zlib';

export function gzip(data: Uint8Array): Uint8Array {
  return gzipSync(data);
}

/** Inflate, stopping with `ERR_BUFFER_TOO_LARGE` past `limit` bytes (0 = no limit). */
export function gunzip(data: Uint8Array, limit: number): Uint8Array {
  return limit > 0 ? gunzipSync(data, { maxOutputLength: limit }) : gunzipSync(data);
}

/** `gunzip` on zlib's thread pool, in chunks: the event loop is not held while it runs. */
export function gunzipAsync(data: Uint8Array, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (limit > 0) gunzipCallback(data, { maxOutputLength: limit }, done);
    else gunzipCallback(data, done);
  });
}
