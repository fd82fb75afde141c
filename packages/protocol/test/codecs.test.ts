// The codec registry a server or client builds from its `codecs` option: mistakes in it are
// ConfigErrors at construction that say what to change, not failures at the first call.
import { ConfigError, rawCodec, type Codec } from '@rpcx/core';
import { thrownBy } from '@rpcx/core/testing';
import { CodecRegistry } from '@rpcx/protocol';

const codec = (serializeType: number, name: string): Codec => ({
  serializeType,
  name,
  encode: (v) => new TextEncoder().encode(JSON.stringify(v)),
  decode: (d) => JSON.parse(new TextDecoder().decode(d)),
});


test('a serialize type outside the 4 header bits is a ConfigError naming the codec', () => {
  for (const t of [16, -1, 1.5, Number.NaN]) {
    const err = thrownBy(() => new CodecRegistry([codec(t, 'wide')]));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`codec "wide": serialize type must be an integer 0..15 (4 bits of the header), got ${t}`);
  }
  expect(new CodecRegistry([codec(15, 'top')]).get(15)?.name).toBe('top');
});

test('two codecs of one serialize type are a ConfigError unless the second explicitly replaces', () => {
  const first = codec(5, 'gob');
  const second = codec(5, 'gob2');
  const err = thrownBy(() => new CodecRegistry([first, second]));
  expect(err).toBeInstanceOf(ConfigError);
  expect(err.message).toBe('codecs "gob" and "gob2" both have serialize type 5: pass one, or register(codec, { replace: true })');

  const registry = new CodecRegistry([first]);
  expect(thrownBy(() => registry.register(second))).toBeInstanceOf(ConfigError);
  expect(registry.get(5)).toBe(first);
  registry.register(second, { replace: true });
  expect(registry.get(5)).toBe(second);
});

test('the built-in raw codec (type 0) is there and may be replaced', () => {
  expect(new CodecRegistry().get(0)).toBe(rawCodec);
  const mine = codec(0, 'my-raw');
  expect(new CodecRegistry([mine]).get(0)).toBe(mine);
});

test('required names the missing serialize type and the package that has its codec', () => {
  const registry = new CodecRegistry([codec(1, 'json')]);
  expect(registry.required(1, 'client').name).toBe('json');
  const cases: [number, string][] = [
    [3, 'client: no codec for serialize type 3 (msgpack): install @rpcx/codec-msgpack and pass msgpackCodec() in codecs'],
    [2, 'client: no codec for serialize type 2 (protobuf): install @rpcx/codec-protobuf and pass protobufCodec() in codecs'],
    [4, 'client: no codec for serialize type 4 (thrift): install @rpcx/codec-thrift and pass thriftCodec() in codecs'],
    [7, 'client: no codec for serialize type 7: pass a codec whose serializeType is 7 in codecs'],
  ];
  for (const [t, message] of cases) {
    const err = thrownBy(() => registry.required(t, 'client'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(message);
  }
});
