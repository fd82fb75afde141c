// The raw codec under the codec compliance suite of @rpcx/core/testing, and the option check
// the codecs share.
import { CodecError, ConfigError, positiveIntegerOptions, rawCodec } from '../src/index.js';
import { codecCompliance, thrownBy } from '../src/testing/index.js';

codecCompliance(() => rawCodec, {
  serializeType: 0,
  name: 'raw',
  cases: [
    { name: 'bytes', value: new Uint8Array([1, 2, 3]) },
    { name: 'no bytes', value: new Uint8Array(0) },
    { name: 'a string, as its UTF-8 bytes', value: 'héllo', decoded: new TextEncoder().encode('héllo') },
  ],
  // Any bytes are a raw payload.
  garbage: [],
  unencodable: [
    { name: 'a number', value: 42 },
    { name: 'an object', value: { A: 1 } },
  ],
});

test("a value that is not bytes is a CodecError with Go ByteCodec's text", () => {
  const error = thrownBy(() => rawCodec.encode({ A: 1 }));
  expect(error).toBeInstanceOf(CodecError);
  expect(error.message).toBe('Object is not a []byte');
});

test('positiveIntegerOptions: defaults, overrides, and a ConfigError for anything but a positive safe integer', () => {
  const defaults = { maxDepth: 10, maxLength: 100 };
  expect(positiveIntegerOptions('json', defaults, {})).toEqual(defaults);
  expect(positiveIntegerOptions('json', defaults, { maxDepth: 3 })).toEqual({ maxDepth: 3, maxLength: 100 });
  for (const bad of [0, -1, 1.5, Number.POSITIVE_INFINITY, Number.NaN, 2 ** 53]) {
    const error = thrownBy(() => positiveIntegerOptions('json', defaults, { maxLength: bad }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`json: maxLength must be a positive integer, got ${bad}`);
  }
});
