import type { SelectRequest, Selector } from '@rpcx/core';

/** A seeded PRNG (mulberry32) so distribution tests are repeatable to the last count. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function req(args: unknown = null, extra: Partial<SelectRequest> = {}): SelectRequest {
  return { servicePath: 'Arith', serviceMethod: 'Mul', args, ...extra };
}

/** How often each server is picked in `n` selects (request i built by `make(i)`). */
export function count(selector: Selector, n: number, make: (i: number) => SelectRequest = () => req()): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = selector.select(make(i));
    const label = k ?? '(none)';
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts;
}

export function servers(entries: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(entries));
}
