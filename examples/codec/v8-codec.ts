// A codec of your own, under serialize type 5 (the seed article registers Go's gob there). This
// one is Node's structured-clone serializer (node:v8): Maps, Sets, Dates, bigints and typed
// arrays arrive as they were sent. Only Node peers can read it, as only Go peers read gob; use it
// between processes you trust (a crafted payload can make the deserializer allocate a lot).
import { deserialize, serialize } from 'node:v8';
import { CodecError, type Codec } from '@rpcx/core';

export function v8Codec(): Codec {
  return {
    serializeType: 5, // 0..4 are rpcx's own; 5..15 are free for codecs like this one
    name: 'v8',
    encode: (value) => serialize(value),
    decode(data) {
      try {
        return deserialize(data);
      } catch (err) {
        // A payload that does not decode fails the call with a CodecError, as with built-in codecs.
        throw new CodecError(`v8: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
