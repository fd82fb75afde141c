/** Hostile payloads: nesting and object floods that each codec must refuse. */

const MiB = 1024 * 1024;

/** `bytes` of 0x91: msgpack arrays nested as deep as the payload is long. */
export const deepMsgpack = (bytes = 32 * MiB) => new Uint8Array(bytes).fill(0x91);

/** `bytes` of `[`: JSON arrays nested as deep as the payload is long. */
export const deepJson = (bytes = 32 * MiB) => new Uint8Array(bytes).fill(0x5b);

/** One msgpack array of `count` empty maps: one byte each on the wire. */
export function manyMaps(count: number): Uint8Array {
  const bytes = new Uint8Array(5 + count).fill(0x80);
  bytes[0] = 0xdd;
  new DataView(bytes.buffer).setUint32(1, count);
  return bytes;
}

/**
 * `depth` protobuf messages nested through field 1 (the fixture's `Node.child`): each level is
 * a tag and the length of the levels inside it.
 */
export function deepProtobuf(depth: number): Uint8Array {
  const varintLength = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);
  // Lengths from the inside out, then written from the outside in.
  const inner = new Float64Array(depth);
  for (let i = 1; i < depth; i++) inner[i] = inner[i - 1] + 1 + varintLength(inner[i - 1]);
  const bytes = new Uint8Array(inner[depth - 1] + 1 + varintLength(inner[depth - 1]));
  let at = 0;
  for (let i = depth - 1; i >= 0; i--) {
    bytes[at++] = 0x0a;
    for (let n = inner[i]; ; n = Math.floor(n / 128)) {
      if (n < 0x80) {
        bytes[at++] = n;
        break;
      }
      bytes[at++] = (n % 128) | 0x80;
    }
  }
  return bytes;
}
