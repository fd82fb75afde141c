/**
 * @packageDocumentation
 * The rpcx frame format, byte for byte as Go rpcx writes it: `Message`, `encodeMessage`,
 * the streaming `FrameDecoder`, gzip with a decompression cap, size limits and heartbeat
 * frames. Transports move the bytes; server and client use this package to read them.
 *
 * @module @rpcx/protocol
 */
export { Message, isServerPush } from './message.js';
export { encodeMessage, flagsByte } from './encode.js';
export { decodeFrame, decompressPayload, FrameDecoder } from './decode.js';
export {
  DEFAULT_MAX_DECOMPRESSED_LENGTH,
  DEFAULT_MAX_MESSAGE_LENGTH,
  DEFAULT_MAX_METADATA_KEYS,
  DEFAULT_MAX_METADATA_LENGTH,
  resolveDecodeOptions,
  type DecodeOptions,
  type ResolvedDecodeOptions,
} from './limits.js';
export { CompressorRegistry, defaultCompressors, gzipCompressor, type Compressor } from './compress.js';
export { CodecRegistry } from './codecs.js';
export { heartbeatRequest, heartbeatTime } from './heartbeat.js';
