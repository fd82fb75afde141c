// The token bucket and the bounded map under a hand-driven clock: exact counts, no sleeps.
import { ConfigError } from '@rpcx/core';
import { BoundedMap, TokenBucket } from '../src/index.js';

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('starts full with burst tokens, then refills at rate per period', () => {
  const c = clock();
  const bucket = new TokenBucket({ rate: 10, periodMs: 1000, burst: 3 }, c.now);
  expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
  c.advance(99);
  expect(bucket.tryTake()).toBe(false);
  c.advance(1);
  expect(bucket.tryTake()).toBe(true);
  // A long quiet spell refills to the burst, no more.
  c.advance(60_000);
  expect(Array.from({ length: 5 }, () => bucket.tryTake()).filter(Boolean)).toHaveLength(3);
});

test("Go's NewBucket(fillInterval, capacity) is { rate: 1, periodMs: fillInterval, burst: capacity }", () => {
  const c = clock();
  const bucket = new TokenBucket({ rate: 1, periodMs: 250, burst: 2 }, c.now);
  expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  c.advance(250);
  expect([bucket.tryTake(), bucket.tryTake()]).toEqual([true, false]);
});

test('reserve queues waiters in order and refuses a wait longer than allowed, taking nothing', () => {
  const c = clock();
  const bucket = new TokenBucket({ rate: 10, burst: 1 }, c.now);
  expect(bucket.reserve(1000)).toBe(0);
  expect(bucket.reserve(1000)).toBeCloseTo(100);
  expect(bucket.reserve(1000)).toBeCloseTo(200);
  expect(bucket.reserve(250)).toBe(-1);
  bucket.release(); // the 200 ms waiter gave up
  expect(bucket.reserve(1000)).toBeCloseTo(200);
  // The two reserved tokens come at 100 and 200 ms; the next free one at 300.
  c.advance(299);
  expect(bucket.tryTake()).toBe(false);
  c.advance(1);
  expect(bucket.tryTake()).toBe(true);
});

test('bad rates are ConfigErrors', () => {
  expect(() => new TokenBucket({ rate: 0 })).toThrow(ConfigError);
  expect(() => new TokenBucket({ rate: 5, burst: 0.5 })).toThrow(ConfigError);
  expect(() => new TokenBucket({ rate: 5, periodMs: -1 })).toThrow(ConfigError);
});

test('BoundedMap keeps maxKeys entries and drops the least recently used', () => {
  const map = new BoundedMap<string, number>(2);
  let made = 0;
  const get = (k: string) => map.get(k, () => ++made);
  expect([get('a'), get('b'), get('a')]).toEqual([1, 2, 1]);
  get('c'); // drops b, the least recently used
  expect(map.size).toBe(2);
  expect(get('a')).toBe(1);
  expect(get('b')).toBe(4);
  for (let i = 0; i < 1000; i++) get(`spoofed-${i}`);
  expect(map.size).toBe(2);
});
