/**
 * CRC-32/IEEE (the zlib, Ethernet and Go `hash/crc32.ChecksumIEEE` one): reflected polynomial
 * 0xEDB88320, initial value and final xor 0xFFFFFFFF. kcp-go puts it, little-endian, after the
 * nonce of every encrypted packet.
 *
 * Node has a native `zlib.crc32` since 20.15 / 22.2; it is about ten times faster than a
 * table in JavaScript and is used when present. The table version is the fallback for older
 * Node 20 releases, and the tests check that both agree.
 */
import zlib from 'node:zlib';

const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32/IEEE of `data` computed with a 256-entry table, as an unsigned 32-bit number. */
export function crc32Table(data: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32/IEEE of `data`, unsigned. Native when Node has `zlib.crc32`. */
export const crc32: (data: Uint8Array) => number = native ? (data) => native(data) : crc32Table;

/** Whether `crc32` is Node's native implementation (for the README's claim and the tests). */
export const nativeCrc32 = native !== undefined;
