import {
  MAGIC_NUMBER,
  MessageTooLongError,
  MetadataTooLongError,
  MetadataTooManyKeysError,
  newMetadata,
  MalformedFrameError,
  BadMagicError,
  MetadataError,
  UnsupportedCompressorError,
  type Metadata,
} from '@rpcx/core';
import type { CompressorRegistry } from './compress.js';
import { Message } from './message.js';
import { resolveDecodeOptions, type DecodeOptions, type ResolvedDecodeOptions } from './limits.js';
import { NameReader, allocBytes, asBytes, readUint32BE, readUtf8 } from './bytes.js';

const PREFIX_LENGTH = 16;
/** The four length fields every frame has, even when all four parts are empty. */
const MIN_TOTAL_LENGTH = 16;
const TWO_POW_32 = 0x1_0000_0000;
/** Above this high word a uint64 seq no longer fits a double exactly. */
const SAFE_SEQ_HIGH = 0x20_0000;

function malformed(what: string): MalformedFrameError {
  return new MalformedFrameError(what);
}

/**
 * Decode one complete frame (`frame` holds exactly 16 + totalLen bytes). Unlike Go, which
 * silently returns a half-filled message for a frame whose inner lengths do not add up, any
 * inconsistency is an error. With `options.decompress` false a compressed payload is left as
 * it came (see `decompressPayload`).
 */
export function decodeFrame(bytes: Uint8Array, options: ResolvedDecodeOptions): Message {
  const frame = asBytes(bytes);
  return decodeAt(frame, 0, frame.length, options, undefined);
}

/** The service path and method readers of one stream (see `NameReader`). */
interface Names {
  path: NameReader;
  method: NameReader;
}

/** `decodeFrame` of `frame[start, end)`, without a view of the frame itself. */
function decodeAt(frame: Uint8Array, start: number, end: number, options: ResolvedDecodeOptions, names: Names | undefined): Message {
  if (frame[start] !== MAGIC_NUMBER) throw new BadMagicError(frame[start]);
  if (end - start < PREFIX_LENGTH + MIN_TOTAL_LENGTH) throw malformed(`${end - start} bytes is shorter than a frame`);
  const hi = readUint32BE(frame, start + 4);
  const lo = readUint32BE(frame, start + 8);

  let pos = start + PREFIX_LENGTH;
  // Each field must leave room for the length fields that follow it.
  const spLen = readUint32BE(frame, pos);
  pos += 4;
  if (spLen > end - pos - 12) throw malformed('service path length exceeds the frame');
  const servicePath = names ? names.path.read(frame, pos, pos + spLen) : readUtf8(frame, pos, pos + spLen);
  pos += spLen;

  const smLen = readUint32BE(frame, pos);
  pos += 4;
  if (smLen > end - pos - 8) throw malformed('service method length exceeds the frame');
  const serviceMethod = names ? names.method.read(frame, pos, pos + smLen) : readUtf8(frame, pos, pos + smLen);
  pos += smLen;

  const metaLen = readUint32BE(frame, pos);
  pos += 4;
  if (metaLen > end - pos - 4) throw malformed('metadata length exceeds the frame');
  const maxMeta = options.maxMetadataLength;
  if (maxMeta > 0 && metaLen > maxMeta) throw new MetadataTooLongError(metaLen, maxMeta);
  // Made with its metadata, so that an empty map is not made only to be replaced.
  const m = metaLen > 0 ? new Message({ metadata: decodeMetadata(frame, pos, pos + metaLen, options.maxMetadataKeys) }) : new Message();
  pos += metaLen;

  const payloadLen = readUint32BE(frame, pos);
  pos += 4;
  // Go ignores this field and takes the rest of the frame; a mismatch means a broken sender.
  if (payloadLen !== end - pos) throw malformed(`payload length ${payloadLen} does not match the ${end - pos} bytes left`);
  const payload = frame.subarray(pos, end);

  m.version = frame[start + 1];
  const flags = frame[start + 2];
  m.isResponse = (flags & 0x80) !== 0;
  m.heartbeat = (flags & 0x40) !== 0;
  m.oneway = (flags & 0x20) !== 0;
  m.compressType = (flags & 0x1c) >> 2;
  m.status = flags & 0x03;
  m.serializeType = frame[start + 3] >> 4;
  m.seq = hi < SAFE_SEQ_HIGH ? hi * TWO_POW_32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  m.servicePath = servicePath;
  m.serviceMethod = serviceMethod;

  if (m.compressType !== 0) {
    const compressor = options.compressors.get(m.compressType);
    if (!compressor) throw new UnsupportedCompressorError();
    m.payload = options.decompress ? compressor.decompress(payload, options.maxDecompressedLength) : payload;
  } else {
    m.payload = payload;
  }
  return m;
}

/**
 * Inflate the payload of a message decoded with `decompress: false`, off the event loop when
 * the compressor can (`decompressAsync`). `compressType` stays set: it says how the request
 * came, and replies are compressed the same way. Rejects with the errors `decodeFrame` throws.
 */
export async function decompressPayload(m: Message, compressors: CompressorRegistry, limit: number): Promise<void> {
  if (m.compressType === 0) return;
  const compressor = compressors.get(m.compressType);
  if (!compressor) throw new UnsupportedCompressorError();
  m.payload = compressor.decompressAsync ? await compressor.decompressAsync(m.payload, limit) : compressor.decompress(m.payload, limit);
}

/**
 * Go's `decodeMetadata` with the same bounds checks and error text, and at most `maxKeys`
 * keys (0 = any number). Duplicate keys: last wins (and count once each time they appear).
 */
function decodeMetadata(buf: Uint8Array, start: number, end: number, maxKeys: number): Metadata {
  const meta = newMetadata();
  let n = start;
  let keys = 0;
  while (n < end) {
    if (maxKeys > 0 && ++keys > maxKeys) throw new MetadataTooManyKeysError(maxKeys);
    if (end - n < 4) throw new MetadataError();
    const kLen = readUint32BE(buf, n);
    n += 4;
    if (kLen > end - n - 4) throw new MetadataError();
    const key = metadataKeys.read(buf, n, n + kLen);
    n += kLen;
    const vLen = readUint32BE(buf, n);
    n += 4;
    if (vLen > end - n) throw new MetadataError();
    meta[key] = readUtf8(buf, n, n + vLen);
    n += vLen;
  }
  return meta;
}

/** Metadata keys repeat on every call (`traceparent`, `__AUTH`, …): shared by all streams. */
const metadataKeys = new NameReader(8);

/**
 * Turns a byte stream into messages. Chunks are kept as a list and a frame that sits in
 * one chunk is handed out as a view of it; only a frame split across chunks is copied, once.
 * A size over the limit is rejected from the 16-byte prefix, before anything is buffered.
 *
 * Any error thrown by `push` is fatal for the stream: the owner closes the connection.
 */
export class FrameDecoder {
  private readonly options: ResolvedDecodeOptions;
  /**
   * The frame size limit in force (see `DecodeOptions.maxMessageLength`). An owner may change
   * it between frames, e.g. a server raising it once a connection has passed auth.
   */
  maxMessageLength: number;
  private chunks: Uint8Array[] = [];
  /** Read position in `chunks[0]`. */
  private offset = 0;
  /** Bytes buffered from `offset` on. */
  private buffered = 0;
  private readonly names: Names = { path: new NameReader(), method: new NameReader() };

  constructor(options: DecodeOptions = {}) {
    this.options = resolveDecodeOptions(options);
    this.maxMessageLength = this.options.maxMessageLength;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Feed bytes; `onMessage` runs for every frame they complete, in order. When it returns
   * `false` decoding stops there and the bytes after that frame stay buffered, unchecked, until
   * the next `push` (an empty chunk just goes on with them).
   */
  push(chunk: Uint8Array, onMessage: (message: Message) => unknown): void {
    const buf = asBytes(chunk);
    if (buf.length > 0) {
      this.chunks.push(buf);
      this.buffered += buf.length;
    }

    while (this.buffered >= PREFIX_LENGTH) {
      const first = this.chunks[0];
      let totalLen: number;
      if (first.length - this.offset >= PREFIX_LENGTH) {
        if (first[this.offset] !== MAGIC_NUMBER) {
          throw new BadMagicError(first[this.offset]);
        }
        totalLen = readUint32BE(first, this.offset + 12);
      } else {
        const prefix = this.peek(PREFIX_LENGTH);
        if (prefix[0] !== MAGIC_NUMBER) throw new BadMagicError(prefix[0]);
        totalLen = readUint32BE(prefix, 12);
      }
      const max = this.maxMessageLength;
      if (max > 0 && totalLen > max) throw new MessageTooLongError(totalLen, max);
      if (totalLen < MIN_TOTAL_LENGTH) throw malformed(`total length ${totalLen} is shorter than its length fields`);
      const frameLen = PREFIX_LENGTH + totalLen;
      if (this.buffered < frameLen) return;
      if (onMessage(this.next(frameLen)) === false) return;
    }
  }

  /** Decode and consume the next frame, `n` bytes: in place when it sits in the first chunk. */
  private next(n: number): Message {
    const first = this.chunks[0];
    const start = this.offset;
    if (first.length - start < n) return decodeAt(this.take(n), 0, n, this.options, this.names);
    // Consumed first: a frame that does not decode is not read again.
    this.offset += n;
    this.buffered -= n;
    if (this.offset === first.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    return decodeAt(first, start, start + n, this.options, this.names);
  }

  /** Copy of the first `n` buffered bytes, without consuming them. */
  private peek(n: number): Uint8Array {
    const out = allocBytes(n);
    let copied = 0;
    let offset = this.offset;
    for (const c of this.chunks) {
      const part = c.subarray(offset, Math.min(c.length, offset + n - copied));
      out.set(part, copied);
      copied += part.length;
      offset = 0;
      if (copied === n) break;
    }
    return out;
  }

  /** Consume `n` bytes that span chunks, copied into one. */
  private take(n: number): Uint8Array {
    const out = allocBytes(n);
    let copied = 0;
    while (copied < n) {
      const c = this.chunks[0];
      const want = Math.min(c.length - this.offset, n - copied);
      out.set(c.subarray(this.offset, this.offset + want), copied);
      copied += want;
      this.offset += want;
      if (this.offset === c.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.buffered -= n;
    return out;
  }
}
