import {
  ConfigError,
  CompressType,
  DecompressedTooLongError,
  UnsupportedError,
  BadCompressedPayloadError,
} from '@rpcx/core';
// node:zlib on Node; in a bundle built with the `browser` condition, a stand-in that throws.
import { gunzip, gunzipAsync, gzip } from '#gzip';

/** A payload compressor, registered under the 3-bit compress type of the frame header. */
export interface Compressor {
  compress(data: Uint8Array): Uint8Array;
  /** Throws `DecompressedTooLongError` when the output would pass `limit` bytes (0 = none). */
  decompress(data: Uint8Array, limit: number): Uint8Array;
  /**
   * The same without holding the event loop (a server inflates this way). Optional: without
   * it `decompress` is used.
   */
  decompressAsync?(data: Uint8Array, limit: number): Promise<Uint8Array>;
}

/** A zlib failure as the typed error every caller sees. */
function gunzipError(err: unknown, limit: number): Error {
  if (err instanceof UnsupportedError) return err;
  if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return new DecompressedTooLongError(limit, { cause: err });
  return new BadCompressedPayloadError(`gzip: invalid payload: ${(err as Error).message}`, { cause: err });
}

/**
 * gzip, as Go's `compress/gzip` at the default level. Any RFC 1952 stream is accepted,
 * concatenated members included. The output cap stops decompression bombs early.
 *
 * On Node only: in a browser build the methods throw `UnsupportedError('unsupported
 * compressor')`; register a synchronous gzip of your own under type 1 to use it there.
 */
export const gzipCompressor: Compressor = {
  compress(data) {
    return gzip(data);
  },
  decompress(data, limit) {
    try {
      return gunzip(data, limit);
    } catch (err) {
      throw gunzipError(err, limit);
    }
  },
  decompressAsync(data, limit) {
    return gunzipAsync(data, limit).catch((err: unknown) => Promise.reject(gunzipError(err, limit)));
  },
};

/** Compressors by compress type. Go registers only gzip (1); users may add more (2..7). */
export class CompressorRegistry {
  private readonly byType: (Compressor | undefined)[] = new Array(8);

  constructor() {
    this.byType[CompressType.Gzip] = gzipCompressor;
  }

  register(type: number, compressor: Compressor): this {
    if (!Number.isInteger(type) || type < 1 || type > 7) throw new ConfigError(`compress type must be 1..7, got ${type}`);
    this.byType[type] = compressor;
    return this;
  }

  get(type: number): Compressor | undefined {
    return this.byType[type];
  }
}

export const defaultCompressors = new CompressorRegistry();
