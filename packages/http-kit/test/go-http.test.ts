// Go's net/http and strconv / url behaviour as the helpers reproduce it: the texts a bad
// header gets, X-RPCX-Meta parsing, request paths and the Content-Type Go sniffs.
import { gzipSync } from 'node:zlib';
import { atoi, detectContentType, goQuote, parseMetaQuery, parseUint64, requestPath } from '../src/index.js';

describe('Go text helpers', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');

  test('strconv errors', () => {
    expect(String(atoi(b('-12')))).toBe('-12');
    expect(atoi(b('1x'))).toBe('strconv.Atoi: parsing "1x": invalid syntax');
    expect(atoi(b('9223372036854775808'))).toBe('strconv.Atoi: parsing "9223372036854775808": value out of range');
    expect(String(atoi(b('-9223372036854775808')))).toBe('-9223372036854775808');
    expect(atoi(b('+'))).toBe('strconv.Atoi: parsing "+": invalid syntax');
    expect(String(parseUint64(b('18446744073709551615')))).toBe('18446744073709551615');
    expect(parseUint64(b('18446744073709551616'))).toBe('strconv.ParseUint: parsing "18446744073709551616": value out of range');
    expect(parseUint64(b('+1'))).toBe('strconv.ParseUint: parsing "+1": invalid syntax');
    expect(goQuote(b('a"\\\n\x01\x7f'))).toBe('"a\\"\\\\\\n\\x01\\x7f"');
    expect(goQuote(Buffer.from('é\u0085', 'utf8'))).toBe('"é\\u0085"');
    expect(goQuote(b('\xff'))).toBe('"\\xff"');
  });

  test('url.ParseQuery: first values, the last ; error, else the first escape error', () => {
    expect(parseMetaQuery('a=1&b=%zz&a=2&c')).toMatchObject({ metadata: { a: '1', c: '' }, error: 'invalid URL escape "%zz"' });
    expect(parseMetaQuery('a=%zz&b=1;c=2')).toMatchObject({ metadata: {}, error: 'invalid semicolon separator in query' });
    expect(parseMetaQuery('x=1+2%2B3').metadata).toEqual({ x: '1 2+3' });
    expect(parseMetaQuery(Array.from({ length: 10_001 }, (_, i) => `k${i}=v`).join('&'))).toMatchObject({
      metadata: {},
      error: 'number of URL query parameters exceeded limit',
    });
  });

  test('Content-Type sniffing', () => {
    expect(detectContentType(Buffer.from('{"C":42}'))).toBe('text/plain; charset=utf-8');
    expect(detectContentType(Buffer.from('\x81\xa1C\xcc\xc8', 'latin1'))).toBe('text/plain; charset=utf-8');
    expect(detectContentType(Buffer.from([0x82, 0xa1, 0x41, 0x00]))).toBe('application/octet-stream');
    expect(detectContentType(Buffer.from('  <!DOCTYPE html><p>'))).toBe('text/html; charset=utf-8');
    expect(detectContentType(Buffer.from('89504e470d0a1a0a00', 'hex'))).toBe('image/png');
    expect(detectContentType(gzipSync('x'))).toBe('application/x-gzip');
    expect(detectContentType(Buffer.from('<?xml version="1.0"?>'))).toBe('text/xml; charset=utf-8');
  });

  test('request paths: escapes decoded as Go URL.Path, a bad escape is undefined', () => {
    expect(requestPath('/N%C3%B6pe?x=1')).toBe('/N\xc3\xb6pe');
    expect(requestPath('http://host:1/a%2Fb')).toBe('/a/b');
    expect(requestPath('/%zz')).toBeUndefined();
  });
});
