// `#gzip` in browser builds (the `browser` condition): no synchronous gzip exists there, so the
// built-in gzip compressor refuses; a page that needs gzip registers its own compressor.
import { UnsupportedError } from '@rpcx/core';

function unavailable(): never {
  throw new UnsupportedError('unsupported compressor', 'RPCX_ERR_UNSUPPORTED_COMPRESSOR');
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
