import type { Codec } from '@rpcx/core';

/** A minimal JSON codec (serialize type 1) that keeps these tests independent of the codec packages. */
export const json: Codec = {
  serializeType: 1,
  name: 'json',
  encode: (v) => Buffer.from(JSON.stringify(v ?? null)),
  decode: (b) => JSON.parse(Buffer.from(b).toString() || 'null'),
};
