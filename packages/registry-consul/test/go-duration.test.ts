// Go formats checked against Go 1.26 (`time.Duration.String`, `time.ParseDuration`,
// `uint64(api.LockFlagValue)`), printed by a throwaway Go program.
import { LOCK_FLAG_VALUE, formatGoDuration, sessionTtl } from '../src/index.js';
import { parseGoDuration } from './consul-standin.js';

test.each([
  [0, '0s'],
  [0.001, '1µs'],
  [0.5, '500µs'],
  [1, '1ms'],
  [300, '300ms'],
  [1000, '1s'],
  [1500, '1.5s'],
  [10_000, '10s'],
  [60_000, '1m0s'],
  [90_000, '1m30s'],
  [3_600_000, '1h0m0s'],
  [90_061_000, '25h1m1s'],
  [1234.5678, '1.2345678s'],
])('formatGoDuration(%p) = %s', (ms, text) => {
  expect(formatGoDuration(ms)).toBe(text);
});

test('session TTL is half the node TTL (Go: (UpdateInterval + Expired) / 2)', () => {
  expect(sessionTtl(20_000)).toBe('10s');
  expect(sessionTtl(120_000)).toBe('1m0s');
  expect(sessionTtl(2000)).toBe('1s');
});

test('LockFlagValue travels as the exact uint64', () => {
  expect(LOCK_FLAG_VALUE).toBe('3304740253564472344');
});

test.each([
  ['1.5s', 1_500_000_000n],
  ['1m0s', 60_000_000_000n],
  ['2h45m', 9_900_000_000_000n],
  ['1µs', 1000n],
  ['300ms', 300_000_000n],
  ['1.000000001s', 1_000_000_001n],
])('the stand-in parses %s as Go does', (text, ns) => {
  expect(parseGoDuration(text)).toBe(ns);
});
