import { ConfigError, SerializeType, rawCodec, type Codec } from '@rpcx/core';

/** Where rpcx's own serialize types come from, for errors that say what to install. */
const CODEC_PACKAGES: Record<number, { name: string; pkg: string; factory: string }> = {
  [SerializeType.JSON]: { name: 'JSON', pkg: '@rpcx/codec-json', factory: 'jsonCodec' },
  [SerializeType.ProtoBuffer]: { name: 'protobuf', pkg: '@rpcx/codec-protobuf', factory: 'protobufCodec' },
  [SerializeType.MsgPack]: { name: 'msgpack', pkg: '@rpcx/codec-msgpack', factory: 'msgpackCodec' },
  [SerializeType.Thrift]: { name: 'thrift', pkg: '@rpcx/codec-thrift', factory: 'thriftCodec' },
};

/** "serialize type 3 (msgpack): install @rpcx/codec-msgpack and pass msgpackCodec() in codecs". */
function whatToInstall(serializeType: number): string {
  const known = CODEC_PACKAGES[serializeType];
  if (!known) return `serialize type ${serializeType}: pass a codec whose serializeType is ${serializeType} in codecs`;
  return `serialize type ${serializeType} (${known.name}): install ${known.pkg} and pass ${known.factory}() in codecs`;
}

/**
 * Codecs by serialize type, shared by a server or client. The raw-bytes codec (type 0) is
 * always present; the others come from the `@rpcx/codec-*` packages or from users, e.g. a
 * gob-like codec under type 5 as in the seed example.
 */
export class CodecRegistry {
  private readonly byType: (Codec | undefined)[] = new Array(16);

  /** @throws ConfigError for a serialize type outside 0..15 or two codecs of one type. */
  constructor(codecs: Iterable<Codec> = []) {
    this.byType[0] = rawCodec;
    for (const c of codecs) this.register(c);
  }

  /**
   * Add `codec` under its serialize type (4 bits of the frame header: 0..15). A second codec
   * for a type already taken is a ConfigError unless `replace` is set; the built-in raw codec
   * (type 0) may be replaced without it.
   */
  register(codec: Codec, options: { replace?: boolean } = {}): this {
    const t = codec.serializeType;
    if (!Number.isInteger(t) || t < 0 || t > 15) {
      throw new ConfigError(`codec ${JSON.stringify(codec.name)}: serialize type must be an integer 0..15 (4 bits of the header), got ${t}`);
    }
    const taken = this.byType[t];
    if (taken && taken !== rawCodec && !options.replace) {
      throw new ConfigError(
        `codecs ${JSON.stringify(taken.name)} and ${JSON.stringify(codec.name)} both have serialize type ${t}: pass one, or register(codec, { replace: true })`,
      );
    }
    this.byType[t] = codec;
    return this;
  }

  get(serializeType: number): Codec | undefined {
    return this.byType[serializeType];
  }

  /**
   * The codec for `serializeType`, or a ConfigError that names the package to install.
   * `purpose` starts the message, e.g. `XClient serializeType`.
   */
  required(serializeType: number, purpose: string): Codec {
    const codec = this.byType[serializeType];
    if (!codec) throw new ConfigError(`${purpose}: no codec for ${whatToInstall(serializeType)}`);
    return codec;
  }

  /** The registered codecs, lowest type first. */
  list(): Codec[] {
    return this.byType.filter((c): c is Codec => c !== undefined);
  }
}
