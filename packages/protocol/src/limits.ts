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
  /**
   * Most metadata keys in one frame; more fail with `MetadataTooManyKeysError` as soon as the
   * decoder reaches the one too many (Go has no limit). 0 = no limit.
   * @default 1024
   */
  maxMetadataKeys?: number;
  /**
   * Longest metadata block of one frame, in bytes; a longer one fails with
   * `MetadataTooLongError` before any of it is read (Go has no limit). 0 = no limit.
   * @default 1048576 (1 MiB)
   */
  maxMetadataLength?: number;
  /**
   * Inflate compressed payloads while decoding. `false` leaves them as they came (the
   * message's `compressType` still set) for the owner to inflate later, e.g. with
   * `decompressPayload` off the event loop once it has checked the sender.
   * @default true
   */
  decompress?: boolean;
  /** @default gzip only, as Go */
  compressors?: CompressorRegistry;
}

export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;
export const DEFAULT_MAX_DECOMPRESSED_LENGTH = 64 * 1024 * 1024;
export const DEFAULT_MAX_METADATA_KEYS = 1024;
export const DEFAULT_MAX_METADATA_LENGTH = 1024 * 1024;

export interface ResolvedDecodeOptions {
  maxMessageLength: number;
  maxDecompressedLength: number;
  maxMetadataKeys: number;
  maxMetadataLength: number;
  decompress: boolean;
  compressors: CompressorRegistry;
}

export function resolveDecodeOptions(o: DecodeOptions = {}): ResolvedDecodeOptions {
  return {
    maxMessageLength: o.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
    maxDecompressedLength: o.maxDecompressedLength ?? DEFAULT_MAX_DECOMPRESSED_LENGTH,
    maxMetadataKeys: o.maxMetadataKeys ?? DEFAULT_MAX_METADATA_KEYS,
    maxMetadataLength: o.maxMetadataLength ?? DEFAULT_MAX_METADATA_LENGTH,
    decompress: o.decompress ?? true,
    compressors: o.compressors ?? defaultCompressors,
  };
}
