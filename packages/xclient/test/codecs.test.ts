// An XClient whose codecs cannot encode its calls fails when it is built, with a message that
// names the serialize type and the package to install, instead of at the first call.
import { ConfigError, type Codec } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { XClient, peer2peer, type XClientOptions } from '@rpcx/xclient';
import { transport } from './support.js';

const jsonLike: Codec = {
  serializeType: 1,
  name: 'json',
  encode: (v) => new TextEncoder().encode(JSON.stringify(v)),
  decode: (d) => JSON.parse(new TextDecoder().decode(d)),
};

function build(options: Partial<XClientOptions>): XClient {
  return new XClient({ servicePath: 'Arith', discovery: peer2peer('tcp@127.0.0.1:1'), transports: [transport], ...options });
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

test('no codec for the default serialize type (msgpack, as in Go): ConfigError naming @rpcx/codec-msgpack', () => {
  for (const codecs of [undefined, [jsonLike]]) {
    const err = thrown(() => build({ codecs }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('RPCX_ERR_CONFIG');
    expect(err.message).toBe(
      'XClient (default serializeType 3, as in Go): no codec for serialize type 3 (msgpack): install @rpcx/codec-msgpack and pass msgpackCodec() in codecs',
    );
  }
});

test('no codec for the chosen serialize type: ConfigError naming its package', () => {
  const err = thrown(() => build({ codecs: [msgpackCodec()], serializeType: 1 }));
  expect(err).toBeInstanceOf(ConfigError);
  expect(err.message).toBe('XClient serializeType: no codec for serialize type 1 (JSON): install @rpcx/codec-json and pass jsonCodec() in codecs');
});

test('a codec of serialize type 16 or two codecs of one type: ConfigError', () => {
  expect(thrown(() => build({ codecs: [msgpackCodec(), { ...jsonLike, serializeType: 16 }] }))).toBeInstanceOf(ConfigError);
  const twice = thrown(() => build({ codecs: [msgpackCodec(), msgpackCodec()] }));
  expect(twice).toBeInstanceOf(ConfigError);
  expect(twice.message).toMatch(/both have serialize type 3/);
});

test('raw bytes (type 0) needs no codec package, and a complete set builds', async () => {
  for (const options of [{ serializeType: 0 }, { codecs: [jsonLike], serializeType: 1 }, { codecs: [msgpackCodec()] }]) {
    const client = build(options);
    expect(client).toBeInstanceOf(XClient);
    await client.close();
  }
});
