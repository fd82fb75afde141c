import { ConfigError, UnsupportedCompressorError, type RpcMessage } from '@rpcx/core';
import { defaultCompressors, type CompressorRegistry } from './compress.js';
import { allocFrame, utf8Length, writeUint32BE, writeUtf8 } from './bytes.js';
import { Message } from './message.js';

const HEADER_LENGTH = 12;
const TWO_POW_32 = 0x1_0000_0000;

/** Header byte 2 from the message's flags. */
export function flagsByte(m: RpcMessage): number {
  return (
    (m.isResponse ? 0x80 : 0) |
    (m.heartbeat ? 0x40 : 0) |
    (m.oneway ? 0x20 : 0) |
    ((m.compressType & 0x07) << 2) |
    (m.status & 0x03)
  );
}

/**
 * Encode a message into one buffer holding the whole frame (one write); on Node the bytes are a
 * `Buffer`. Small frames are views of a shared slab (`allocFrame`): never transfer their
 * `.buffer`.
 * The payload is compressed here when `compressType` is not None; deciding whether a payload
 * is worth compressing (Go: > 1024 bytes) is the sender's job.
 */
export function encodeMessage(m: RpcMessage, compressors: CompressorRegistry = defaultCompressors): Uint8Array {
  let payload = m.payload;
  if (m.compressType !== 0) {
    const compressor = compressors.get(m.compressType);
    if (!compressor) throw new UnsupportedCompressorError();
    payload = compressor.compress(payload);
  }

  const spLen = utf8Length(m.servicePath);
  const smLen = utf8Length(m.serviceMethod);
  // A Message without metadata has no map: nothing to read (and none made just to be read).
  const meta = m instanceof Message ? m.metadataIfAny : m.metadata;
  let metaLen = 0;
  // for..in is the fastest way over a small prototype-less map; user maps may have a
  // prototype, so keep only own keys.
  if (meta) {
    for (const k in meta) {
      if (!Object.prototype.hasOwnProperty.call(meta, k)) continue;
      metaLen += 8 + utf8Length(k) + utf8Length(meta[k]);
    }
  }
  const totalLen = 16 + spLen + smLen + metaLen + payload.length;
  const buf = allocFrame(4 + HEADER_LENGTH + totalLen);

  buf[0] = 0x08;
  buf[1] = m.version;
  buf[2] = flagsByte(m);
  buf[3] = (m.serializeType & 0x0f) << 4;
  const seq = m.seq;
  if (typeof seq === 'bigint') {
    if (seq < 0n || seq > 0xffff_ffff_ffff_ffffn) throw new ConfigError(`seq ${seq} is not a uint64`);
    writeUint32BE(buf, Number(BigInt.asUintN(64, seq) >> 32n), 4);
    writeUint32BE(buf, Number(BigInt.asUintN(32, seq)), 8);
  } else {
    writeUint32BE(buf, Math.floor(seq / TWO_POW_32), 4);
    writeUint32BE(buf, seq >>> 0, 8);
  }
  writeUint32BE(buf, totalLen, 12);

  let pos = 16;
  writeUint32BE(buf, spLen, pos);
  pos += 4;
  pos += writeUtf8(buf, m.servicePath, pos);
  writeUint32BE(buf, smLen, pos);
  pos += 4;
  pos += writeUtf8(buf, m.serviceMethod, pos);
  writeUint32BE(buf, metaLen, pos);
  pos += 4;
  if (meta && metaLen > 0) {
    for (const k in meta) {
      if (!Object.prototype.hasOwnProperty.call(meta, k)) continue;
      const v = meta[k];
      const kLen = writeUtf8(buf, k, pos + 4);
      writeUint32BE(buf, kLen, pos);
      pos += 4 + kLen;
      const vLen = writeUtf8(buf, v, pos + 4);
      writeUint32BE(buf, vLen, pos);
      pos += 4 + vLen;
    }
  }
  writeUint32BE(buf, payload.length, pos);
  pos += 4;
  buf.set(payload, pos);
  return buf;
}
