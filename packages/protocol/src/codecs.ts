import { rawCodec, type Codec } from '@rpcx/core';

/**
 * Codecs by serialize type, shared by a server or client. The raw-bytes codec (type 0) is
 * always present; the others come from the `@rpcx/codec-*` packages or from users, e.g. a
 * gob-like codec under type 5 as in the seed example.
 */
export class CodecRegistry {
  private readonly byType: (Codec | undefined)[] = new Array(16);

  constructor(codecs: Iterable<Codec> = []) {
    this.byType[0] = rawCodec;
    for (const c of codecs) this.register(c);
  }

  register(codec: Codec): this {
    const t = codec.serializeType;
    if (!Number.isInteger(t) || t < 0 || t > 15) throw new RangeError(`serialize type must be 0..15, got ${t}`);
    this.byType[t] = codec;
    return this;
  }

  get(serializeType: number): Codec | undefined {
    return this.byType[serializeType];
  }

  /** The registered codecs, lowest type first. */
  list(): Codec[] {
    return this.byType.filter((c): c is Codec => c !== undefined);
  }
}
