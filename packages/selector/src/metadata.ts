import { parseQueryStrict } from '@rpcx/core';

/** The largest weight used; bigger (valid) weights are clamped so sums stay exact. */
export const MAX_WEIGHT = 0x7fffffff;

const INT_RE = /^[+-]?[0-9]+$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * A server's weight as Go's `createWeighted` reads it: the first `weight` value parsed with
 * `strconv.Atoi` (64-bit); missing, empty, unparseable or out-of-range → 1. Differences:
 * negative weights become 0 (Go corrupts its ring with them) and weights above 2^31 − 1 are
 * clamped to it.
 */
export function parseWeight(metadata: string): number {
  const w = parseQueryStrict(metadata)?.get('weight')?.[0];
  if (w === undefined || w === '' || !INT_RE.test(w)) return 1;
  const big = BigInt(w);
  if (big > INT64_MAX || big < INT64_MIN) return 1;
  if (big < 0n) return 0;
  return big > BigInt(MAX_WEIGHT) ? MAX_WEIGHT : Number(big);
}

const FLOAT_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * A decimal float as Go's `strconv.ParseFloat` reads one, or undefined. Only finite decimal
 * forms are accepted: Go also takes `NaN`, `Inf` and hex floats, but none of those can be a
 * position on Earth (Go's geo selector would compute NaN distances from them).
 */
export function parseCoordinate(text: string | undefined): number | undefined {
  if (text === undefined || !FLOAT_RE.test(text)) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

export interface FilterOptions {
  /** Keep only servers whose `group` values include this one. Empty or absent: no group filter. */
  group?: string;
}

/**
 * Go `filterByStateAndGroup`, without mutating its input: drops servers whose metadata says
 * `state=inactive` and, when `group` is given, servers none of whose `group` values equals it.
 * Servers whose metadata does not parse as a query are kept untouched, as in Go.
 * The result keeps the input order.
 */
export function filterServers(servers: ReadonlyMap<string, string>, options: FilterOptions = {}): Map<string, string> {
  const group = options.group ?? '';
  const out = new Map<string, string>();
  for (const [key, metadata] of servers) {
    const values = parseQueryStrict(metadata);
    if (values) {
      if (values.get('state')?.[0] === 'inactive') continue;
      if (group !== '' && !(values.get('group') ?? []).includes(group)) continue;
    }
    out.set(key, metadata);
  }
  return out;
}
