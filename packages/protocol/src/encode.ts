import { UnsupportedError, type RpcMessage } from '@rpcx/core';
import { defaultCompressors, type CompressorRegistry } from './compress.js';

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
 * Encode a message into one buffer holding the whole frame (one allocation, one write).
 * The payload is compressed here when `compressType` is not None; deciding whether a payload
 * is worth compressing (Go: > 1024 bytes) is the sender's job.
 */
export function encodeMessage(m: RpcMessage, compressors: CompressorRegistry = defaultCompressors): Buffer {
  let payload = m.payload;
  if (m.compressType !== 0) {
    const compressor = compressors.get(m.compressType);
    if (!compressor) throw new UnsupportedError('unsupported compressor', 'RPCX_ERR_UNSUPPORTED_COMPRESSOR');
    payload = compressor.compress(payload);
  }

  const spLen = Buffer.byteLength(m.servicePath, 'utf8');
  const smLen = Buffer.byteLength(m.serviceMethod, 'utf8');
  const meta = m.metadata;
  let metaLen = 0;
  // for..in is the fastest way over a small prototype-less map; user maps may have a
  // prototype, so keep only own keys.
  for (const k in meta) {
    if (!Object.prototype.hasOwnProperty.call(meta, k)) continue;
    metaLen += 8 + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(meta[k], 'utf8');
  }
  const totalLen = 16 + spLen + smLen + metaLen + payload.length;
  const buf = Buffer.allocUnsafe(4 + HEADER_LENGTH + totalLen);

  buf[0] = 0x08;
  buf[1] = m.version;
  buf[2] = flagsByte(m);
  buf[3] = (m.serializeType & 0x0f) << 4;
  const seq = m.seq;
  if (typeof seq === 'bigint') buf.writeBigUInt64BE(seq, 4);
  else {
    buf.writeUInt32BE(Math.floor(seq / TWO_POW_32), 4);
    buf.writeUInt32BE(seq >>> 0, 8);
  }
  buf.writeUInt32BE(totalLen, 12);

  let pos = 16;
  buf.writeUInt32BE(spLen, pos);
  pos += 4;
  pos += buf.write(m.servicePath, pos, 'utf8');
  buf.writeUInt32BE(smLen, pos);
  pos += 4;
  pos += buf.write(m.serviceMethod, pos, 'utf8');
  buf.writeUInt32BE(metaLen, pos);
  pos += 4;
  for (const k in meta) {
    if (!Object.prototype.hasOwnProperty.call(meta, k)) continue;
    const v = meta[k];
    const kLen = buf.write(k, pos + 4, 'utf8');
    buf.writeUInt32BE(kLen, pos);
    pos += 4 + kLen;
    const vLen = buf.write(v, pos + 4, 'utf8');
    buf.writeUInt32BE(vLen, pos);
    pos += 4 + vLen;
  }
  buf.writeUInt32BE(payload.length, pos);
  pos += 4;
  buf.set(payload, pos);
  return buf;
}
