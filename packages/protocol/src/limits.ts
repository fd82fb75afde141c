import { CompressorRegistry, defaultCompressors } from './compress.js';

/** Size limits and compressors a decoder applies to incoming frames. */
export interface DecodeOptions {
  /**
   * Largest frame accepted, counted as Go counts it: the bytes after the 16-byte prefix.
   * Larger frames fail with "message is too long" before they are buffered. 0 = no limit.
   * @default 67108864 (64 MiB)
   */
  maxMessageLength?: number;
  /**
   * Largest payload after decompression; a gzip bomb fails with "decompressed size exceeds
   * the maximum allowed size" as soon as the output passes it. 0 = no limit.
   * @default 67108864 (64 MiB)
   */
  maxDecompressedLength?: number;
  /** @default gzip only, as Go */
  compressors?: CompressorRegistry;
}

export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;
export const DEFAULT_MAX_DECOMPRESSED_LENGTH = 64 * 1024 * 1024;

export interface ResolvedDecodeOptions {
  maxMessageLength: number;
  maxDecompressedLength: number;
  compressors: CompressorRegistry;
}

export function resolveDecodeOptions(o: DecodeOptions = {}): ResolvedDecodeOptions {
  return {
    maxMessageLength: o.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
    maxDecompressedLength: o.maxDecompressedLength ?? DEFAULT_MAX_DECOMPRESSED_LENGTH,
    compressors: o.compressors ?? defaultCompressors,
  };
}
