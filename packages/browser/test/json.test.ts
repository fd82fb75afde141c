// The page's JSON codec is @rpcx/codec-json's, Go's bytes and limits included (its own tests
// cover those; the browser test runs it in Chromium, without Buffer).
import { jsonCodec as nodeJsonCodec } from '@rpcx/codec-json';
import { CodecError, PayloadTooDeepError } from '@rpcx/core';
import { thrownBy } from '@rpcx/core/testing';
import { jsonCodec } from '../src/index.js';

test('the JSON codec of @rpcx/browser is the one of @rpcx/codec-json: the same bytes on the wire', () => {
  expect(jsonCodec).toBe(nodeJsonCodec);
  const codec = jsonCodec();
  expect(codec.decode(codec.encode({ A: 1, B: [2, 'x'] }))).toEqual({ A: 1, B: [2, 'x'] });
  expect(new TextDecoder().decode(codec.encode({ S: '<b>', B: new Uint8Array([1, 2, 3]) }))).toBe('{"S":"\\u003cb\\u003e","B":"AQID"}');
  // An empty payload is not JSON, as Go's json.Unmarshal says.
  expect(thrownBy(() => codec.decode(new Uint8Array(0)))).toBeInstanceOf(CodecError);
  // A hostile reply nested 8 million deep fails at once.
  expect(thrownBy(() => codec.decode(new Uint8Array(8 * 1024 * 1024).fill(0x5b)))).toBeInstanceOf(PayloadTooDeepError);
});
