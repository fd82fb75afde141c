// `#gzip` in browser builds (the `browser` condition): no synchronous gzip exists there, so the
// built-in gzip compressor refuses; a page that needs gzip registers its own compressor.
import {  UnsupportedCompressorError } from '@rpcx/core';

function unavailable(): never {
  throw new UnsupportedCompressorError();
}

export function gzip(_data: Uint8Array): Uint8Array {
  return unavailable();
}

export function gunzip(_data: Uint8Array, _limit: number): Uint8Array {
  return unavailable();
}

export async function gunzipAsync(_data: Uint8Array, _limit: number): Promise<Uint8Array> {
  return unavailable();
}
