// The pure parts: Go's %.2f, the refreshed value, and which entries are refused.
import { formatRate, withRates } from '../src/metrics.js';
import { DEFAULT_NETWORKS, decodeUtf8, keyProblem, metadataProblem } from '../src/entries.js';

const networks = new Set(DEFAULT_NETWORKS);

describe('metrics value (Go fmt %.2f + url.Values.Encode)', () => {
  test('formatRate rounds like Go, half to even on exact ties', () => {
    expect(formatRate(0)).toBe('0.00');
    expect(formatRate(1 / 3)).toBe('0.33');
    expect(formatRate(2 / 3)).toBe('0.67');
    expect(formatRate(1.005)).toBe('1.00'); // 1.00499999… in binary, in Go too
    expect(formatRate(0.125)).toBe('0.12');
    expect(formatRate(0.375)).toBe('0.38');
    expect(formatRate(2.625)).toBe('2.62');
    expect(formatRate(0.875)).toBe('0.88');
    expect(formatRate(12345.5)).toBe('12345.50');
  });

  test('withRates sets calls/connections and sorts keys, keeping multi-values', () => {
    expect(withRates('weight=10&group=g1', 1.5, 0.25)).toBe('calls=1.50&connections=0.25&group=g1&weight=10');
    expect(withRates('', 0, 0)).toBe('calls=0.00&connections=0.00');
    expect(withRates('calls=9&group=a&group=b&name=a+b', 1, 2)).toBe('calls=1.00&connections=2.00&group=a&group=b&name=a+b');
    // Go's ParseQuery drops undecodable pairs; Encode escapes what needs it.
    expect(withRates('bad=%zz&tag=x/y z', 0, 0)).toBe('calls=0.00&connections=0.00&tag=x%2Fy+z');
  });
});

describe('entry checks', () => {
  test.each([
    ['tcp@127.0.0.1:8972', undefined],
    ['tcp@[::1]:8972', undefined],
    ['127.0.0.1:8972', undefined], // no network means tcp, as Go's client
    ['quic@example.com:443', undefined],
    ['unix@/tmp/rpcx.sock', undefined],
    ['tcp@127.0.0.1', 'unparseable address'],
    ['tcp@', 'unparseable server key'],
    ['@127.0.0.1:1', 'unparseable server key'],
    ['udp@127.0.0.1:1', 'unknown network "udp"'],
  ])('key %s', (key, problem) => {
    expect(keyProblem(key, networks)).toBe(problem);
  });

  test.each([
    ['', undefined],
    ['weight=10&group=g1&state=active', undefined],
    ['name=a+b&x=%E4%BD%A0', undefined],
    ['flag&=&a=', undefined],
    ['weight=%zz', 'invalid %-escape in metadata'],
    ['a=1;b=2', 'semicolon in metadata'],
    ['a=1\nb=2', 'control characters in metadata'],
  ])('metadata %j', (value, problem) => {
    expect(metadataProblem(value)).toBe(problem);
  });

  test('non-UTF-8 bytes are refused', () => {
    expect(decodeUtf8(Buffer.from('weight=1'))).toBe('weight=1');
    expect(decodeUtf8(null)).toBe('');
    expect(decodeUtf8(Buffer.from([0xff, 0xfe]))).toBeUndefined();
  });
});
