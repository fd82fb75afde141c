import {
  CompressType,
  DecompressedTooLongError,
  UnsupportedError,
  BadCompressedPayloadError,
} from '@rpcx/core';
// node:zlib on Node; in a bundle built with the `browser` condition, a stand-in that throws.
import { gunzip, gzip } from '#gzip';

/** A payload compressor, registered under the 3-bit compress type of the frame header. */
export interface Compressor {
  compress(data: Uint8Array): Uint8Array;
  /** Throws `DecompressedTooLongError` when the output would pass `limit` bytes (0 = none). */
  decompress(data: Uint8Array, limit: number): Uint8Array;
}

/**
 * gzip, as Go's `compress/gzip` at the default level. Any RFC 1952 stream is accepted,
 * concatenated members included. The output cap stops decompression bombs early.
 *
 * On Node only: in a browser build both methods throw `UnsupportedError('unsupported
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
      if (err instanceof UnsupportedError) throw err;
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressedTooLongError(limit, { cause: err });
      throw new BadCompressedPayloadError(`gzip: invalid payload: ${(err as Error).message}`, { cause: err });
    }
  },
};

/** Compressors by compress type. Go registers only gzip (1); users may add more (2..7). */
export class CompressorRegistry {
  private readonly byType: (Compressor | undefined)[] = new Array(8);

  constructor() {
    this.byType[CompressType.Gzip] = gzipCompressor;
  }

  register(type: number, compressor: Compressor): this {
    if (!Number.isInteger(type) || type < 1 || type > 7) throw new RangeError(`compress type must be 1..7, got ${type}`);
    this.byType[type] = compressor;
    return this;
  }

  get(type: number): Compressor | undefined {
    return this.byType[type];
  }
}

export const defaultCompressors = new CompressorRegistry();
